"""tgpilot: one command that runs a person's whole Telegram operation."""

__version__ = "0.1.0"
