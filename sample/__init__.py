"""The demo account: a deterministic fake Telegram world and its configuration.

``sample.build_world`` generates the world, ``sample.prepare`` writes it and an
authorised session for ``scripts/demo``; ``sample/config.yml`` holds the demo's aliases.
"""
