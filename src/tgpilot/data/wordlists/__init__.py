"""Bundled word lists (YAML), read by :mod:`tgpilot.core.wordlists`."""
