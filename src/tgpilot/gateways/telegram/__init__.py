"""The Telegram user-account gateway: the only package that imports Telethon."""
