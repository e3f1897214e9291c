"""The packaged prompt files (``<name>.md``), read through importlib.resources.

Users override any of them by name; see :mod:`tgpilot.services.prompts`.
"""
