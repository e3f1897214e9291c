"""Which messages ``analyze`` reads, and how people are named (spec ai.md §3, §4.1).

**Selection.** A message is kept when it has at least ``min_length`` characters of
text (code points, surrounding whitespace not counted) and does not come from a bot —
or from the service-notification account — unless ``include_bots``. With
``include_media`` a message carrying media is kept whatever its text (a media-only
one is shown as ``[media]``). Service messages are never kept.

**Names.** A person is shown by full name, else ``@username``, else ``User <id>``; a
message without a sender by "Unknown sender".
"""

from __future__ import annotations

from dataclasses import dataclass

from tgpilot.core.errors import UsageError
from tgpilot.models import Message, Sender

UNKNOWN_SENDER = "Unknown sender"
SERVICE_NOTIFICATIONS_ID = 777000
"""Telegram's service-notification account: never a person."""

MEDIA_MARKER = "[media]"
DEFAULT_MIN_LENGTH = 10


def display_name(sender: Sender | None) -> str:
    """Full name, else ``@username``, else ``User <id>``; "Unknown sender" for None."""
    if sender is None:
        return UNKNOWN_SENDER
    if sender.name.strip():
        return sender.name.strip()
    if sender.username:
        return f"@{sender.username}"
    return f"User {sender.id}" if sender.id is not None else UNKNOWN_SENDER


def sender_key(sender: Sender | None) -> object:
    """What tells senders apart: the id, else the name; None for no sender."""
    if sender is None:
        return None
    return sender.id if sender.id is not None else ("name", display_name(sender))


def text_length(message: Message) -> int:
    """Characters (code points) of a message's text, surrounding whitespace excluded."""
    return len(message.text.strip())


def is_bot_like(sender: Sender | None) -> bool:
    """True for bots and the service-notification account."""
    return sender is not None and (sender.is_bot or sender.id == SERVICE_NOTIFICATIONS_ID)


@dataclass(frozen=True)
class Selection:
    """``--min-length``, ``--include-bots`` and ``--include-media`` (spec §4.1)."""

    min_length: int = DEFAULT_MIN_LENGTH
    include_bots: bool = False
    include_media: bool = False

    def __post_init__(self) -> None:
        if self.min_length < 0:
            raise UsageError("--min-length must be 0 or positive")

    def keeps(self, message: Message) -> bool:
        """True if ``analyze`` reads this message."""
        if message.is_service:
            return False
        if not self.include_bots and is_bot_like(message.sender):
            return False
        if self.include_media and message.media_type:
            return True
        length = text_length(message)
        return length > 0 and length >= self.min_length
