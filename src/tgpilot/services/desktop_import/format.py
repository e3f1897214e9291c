"""The vocabulary of Telegram Desktop's JSON export (``result.json``), both directions.

Shared by the ``json`` export format (:mod:`tgpilot.services.export.desktop_json`) and
the importer, so that writing a chat and reading it back agree on every name: chat
types, peer references (``user123``, ``chat123``, ``channel123``), media kinds, the
note Desktop writes for files it did not download, the labels under which service
messages carry the message they refer to, and dates (wall time plus unix time).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Final

from tgpilot.models import CHANNEL_ID_OFFSET, Chat, ChatType

# --------------------------------------------------------------------------- chat types

CHAT_TYPES: Final[dict[str, ChatType]] = {
    "personal_chat": ChatType.USER,
    "saved_messages": ChatType.USER,
    "bot_chat": ChatType.BOT,
    "replies": ChatType.BOT,
    "verification_codes": ChatType.BOT,
    "private_group": ChatType.GROUP,
    "private_supergroup": ChatType.SUPERGROUP,
    "public_supergroup": ChatType.SUPERGROUP,
    "private_channel": ChatType.CHANNEL,
    "public_channel": ChatType.CHANNEL,
}
"""Desktop ``type`` of a chat → our chat type."""

UNNAMED_CHAT_TITLES: Final[dict[str, str]] = {
    "saved_messages": "Saved Messages",
    "replies": "Replies",
    "verification_codes": "Verification Codes",
}
"""Titles for the chats Desktop writes without a ``name``."""


def desktop_chat_type(chat: Chat) -> str:
    """The Desktop ``type`` of a chat: public = has a username."""
    public = bool(chat.username)
    if chat.type is ChatType.USER:
        return "personal_chat"
    if chat.type is ChatType.BOT:
        return "bot_chat"
    if chat.type is ChatType.GROUP:
        return "private_group"
    if chat.type is ChatType.SUPERGROUP:
        return "public_supergroup" if public else "private_supergroup"
    return "public_channel" if public else "private_channel"


# --------------------------------------------------------------------------- peers

_PEER_REF = re.compile(r"(user|chat|channel)(\d+)")


def peer_ref(marked_id: int) -> str:
    """``user<raw>``, ``chat<raw>`` or ``channel<raw>`` for a marked peer id."""
    if marked_id > 0:
        return f"user{marked_id}"
    if marked_id <= -CHANNEL_ID_OFFSET:
        return f"channel{-marked_id - CHANNEL_ID_OFFSET}"
    return f"chat{-marked_id}"


def parse_peer_ref(value: object) -> int | None:
    """The marked id of ``user123`` (123), ``chat123`` (-123) or ``channel123``
    (-100123); a bare number (older exports) is taken as it is; anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return None
    match = _PEER_REF.fullmatch(value.strip())
    if match is None:
        return int(value) if value.strip().lstrip("-").isdigit() else None
    kind, number = match.group(1), int(match.group(2))
    if kind == "user":
        return number
    if kind == "chat":
        return -number
    return -(CHANNEL_ID_OFFSET + number)


# --------------------------------------------------------------------------- media

MEDIA_KINDS: Final[dict[str, str]] = {
    "sticker": "sticker",
    "video_message": "round",
    "voice_message": "voice",
    "audio_file": "audio",
    "animation": "animation",
    "video_file": "video",
}
"""Desktop ``media_type`` of a ``file`` → our media kind (no ``media_type``: document)."""

DESKTOP_MEDIA_TYPES: Final[dict[str, str]] = {kind: name for name, kind in MEDIA_KINDS.items()}
"""Our media kind → Desktop ``media_type`` (photos and documents have none)."""

OTHER_MEDIA_KEYS: Final[tuple[str, ...]] = (
    "poll",
    "location_information",
    "contact_information",
    "place_name",
    "game_title",
    "invoice_information",
    "giveaway_information",
    "giveaway_results",
    "paid_stars_amount",
)
"""Message keys of media we classify as ``other`` (polls, places, contacts, …)."""

FILE_NOT_INCLUDED: Final = "(File not included. Change data exporting settings to download.)"
"""What Desktop writes instead of a path for a file it did not download."""

_SKIP_NOTE = re.compile(
    r"\((?:File|Photo) (?:not included|exceeds maximum size|unavailable)[^)]*\)\s*$"
)

MIME_TYPES: Final[dict[str, str]] = {
    "sticker": "image/webp",
    "round": "video/mp4",
    "voice": "audio/ogg",
    "audio": "audio/mpeg",
    "animation": "video/mp4",
    "video": "video/mp4",
}
"""The MIME type written for a media kind (documents go by their file extension)."""

DOCUMENT_MIME_TYPES: Final[dict[str, str]] = {
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".json": "application/json",
    ".zip": "application/zip",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".epub": "application/epub+zip",
    ".fb2": "application/x-fictionbook+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
}
DEFAULT_MIME_TYPE: Final = "application/octet-stream"


def mime_type_of(kind: str, file_name: str | None) -> str:
    """A MIME type for a file of this kind and name (a fixed table: the same everywhere)."""
    if kind in MIME_TYPES:
        return MIME_TYPES[kind]
    if file_name and "." in file_name:
        suffix = file_name[file_name.rindex(".") :].lower()
        return DOCUMENT_MIME_TYPES.get(suffix, DEFAULT_MIME_TYPE)
    return DEFAULT_MIME_TYPE


def is_skip_note(value: str) -> bool:
    """True for Desktop's ``(File not included. …)``-style notes instead of a path."""
    return _SKIP_NOTE.search(value) is not None


# --------------------------------------------------------------------------- service messages

REPLY_LABELS: Final[dict[str, str]] = {
    "pin_message": "message_id",
    "set_chat_wallpaper": "message_id",
    "set_same_chat_wallpaper": "message_id",
    "score_in_game": "game_message_id",
    "send_payment": "invoice_message_id",
}
"""The key under which a service message names the message it refers to (else
``reply_to_message_id``)."""

INFORMATION_TEXT_ACTION: Final = "custom_action"
"""The action of a service message Desktop writes with ``information_text`` only."""


# --------------------------------------------------------------------------- dates


def desktop_time(value: datetime, tz: tzinfo) -> str:
    """Wall time in ``tz`` without offset, seconds precision: ``2025-01-02T03:04:00``."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S")


def unix_time(value: datetime) -> str:
    """Seconds since the epoch as a string, as Desktop writes ``date_unixtime``."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return str(int(aware.timestamp()))


def parse_time(wall: object, unix: object, tz: tzinfo) -> datetime | None:
    """A UTC datetime from ``*_unixtime`` (wins) or else the wall time read in ``tz``;
    None when neither is usable."""
    if isinstance(unix, str | int) and not isinstance(unix, bool):
        text = str(unix).strip()
        if text.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(text), UTC)
    if isinstance(wall, str) and wall:
        try:
            parsed = datetime.fromisoformat(wall)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=tz)
        return parsed.astimezone(UTC)
    return None
