"""A sample Telegram Desktop export (``result.json``) and the script that generates it.

See ``generate.py``: a deterministic, multi-month Russian/English reading-club chat
that ``tgpilot import`` reads with no Telegram account at all.
"""
