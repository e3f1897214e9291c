"""Data files shipped with tgpilot (word lists, …), read through importlib.resources."""
