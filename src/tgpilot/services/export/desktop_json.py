"""The ``json`` export format: Telegram Desktop's single-chat ``result.json`` (spec §3.2).

Written as a stream, laid out exactly as Desktop lays it out — one space of indent per
level, UTF-8 text unescaped::

    {
     "name": "Book Club",
     "type": "public_supergroup",
     "id": 1234567890,
     "messages": [
      {
       "id": 41,
       "type": "message",
       ...
      }
     ]
    }

Message keys come in the spec's order: ``id``, ``type``, ``date`` (wall time in the
export zone), ``date_unixtime``, ``edited``/``edited_unixtime`` (edited only), then
``actor``/``actor_id``/``action`` for service messages or ``from``/``from_id``,
``reply_to_message_id``, ``forwarded_from`` for messages, the media (``photo`` or
``file`` + ``media_type`` + ``mime_type``), ``text``, ``text_entities``, ``reactions``.

Besides Desktop's own keys (``file_name``, ``file_size``, ``photo_file_size``) one key
is added where Desktop has none: ``forwarded_from_id`` (``user…``/``channel…``) when
the forward's origin is known, so that importing the file gives back the stored row.
Views, forwards, reply counts, the "outgoing" flag and which reaction is the
account's own have no place in this format and are not written.
"""

from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any
from zoneinfo import ZoneInfo

from tgpilot.models import Message, Reaction, Sender
from tgpilot.services.desktop_import.format import (
    DESKTOP_MEDIA_TYPES,
    FILE_NOT_INCLUDED,
    INFORMATION_TEXT_ACTION,
    REPLY_LABELS,
    desktop_chat_type,
    desktop_time,
    mime_type_of,
    peer_ref,
    unix_time,
)
from tgpilot.services.export.formats import ExportHeader, ExportItem

MESSAGE_INDENT = 2
"""Nesting level of a message object inside ``{"messages": [ ... ]}``."""


def render_json(value: Any, level: int = 0) -> str:
    """``value`` as Desktop's pretty JSON: one space per level, ``", "``-free item
    separators (``,`` plus newline), non-ASCII unescaped; the same text as
    ``json.dumps(value, ensure_ascii=False, indent=1)`` at nesting ``level``."""
    if isinstance(value, str):
        return str(encode_basestring(value))
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    inner = "\n" + " " * (level + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = (
            f"{inner}{encode_basestring(str(key))}: {render_json(item, level + 1)}"
            for key, item in value.items()
        )
        return "{" + ",".join(items) + "\n" + " " * level + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return ("[" + ",".join(inner + render_json(item, level + 1) for item in value) + "\n") + (
            " " * level + "]"
        )
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def reaction_objects(reactions: tuple[Reaction, ...]) -> list[dict[str, Any]]:
    """Reactions as Desktop writes them: ``{type, count, emoji | document_id}`` (the
    document id a string); empty counts are left out."""
    out: list[dict[str, Any]] = []
    for reaction in reactions:
        if reaction.count <= 0:
            continue
        kind = reaction.type if reaction.type in ("emoji", "custom_emoji", "paid") else "unknown"
        item: dict[str, Any] = {"type": kind, "count": reaction.count}
        if kind == "emoji":
            item["emoji"] = reaction.emoji or ""
        elif kind == "custom_emoji":
            item["document_id"] = str(reaction.document_id or 0)
        out.append(item)
    return out


def text_entities(text: str) -> list[dict[str, str]]:
    """The ``text_entities`` of an entity-free text: one ``plain`` part (none if empty)."""
    return [{"type": "plain", "text": text}] if text else []


def _put_sender(obj: dict[str, Any], sender: Sender | None, label: str) -> None:
    if sender is None:
        return
    obj[label] = sender.name or None
    if sender.id is not None:
        obj[f"{label}_id"] = peer_ref(sender.id)


def _put_media(obj: dict[str, Any], message: Message, path: str | None) -> None:
    kind = message.media_type
    if kind is None or kind == "other":
        return
    where = path if path else FILE_NOT_INCLUDED
    if kind == "photo":
        obj["photo"] = where
        if message.media_size is not None:
            obj["photo_file_size"] = message.media_size
        return
    obj["file"] = where
    if message.media_name:
        obj["file_name"] = message.media_name
    if message.media_size is not None:
        obj["file_size"] = message.media_size
    desktop_type = DESKTOP_MEDIA_TYPES.get(kind)
    if desktop_type is not None:
        obj["media_type"] = desktop_type
    obj["mime_type"] = mime_type_of(kind, message.media_name)


def message_object(item: ExportItem, tz: ZoneInfo) -> dict[str, Any]:
    """One message as Desktop's JSON object, keys in the spec's order."""
    m = item.message
    obj: dict[str, Any] = {
        "id": m.id,
        "type": "service" if m.is_service else "message",
        "date": desktop_time(m.date, tz),
        "date_unixtime": unix_time(m.date),
    }
    if m.edit_date is not None:
        obj["edited"] = desktop_time(m.edit_date, tz)
        obj["edited_unixtime"] = unix_time(m.edit_date)
    if m.is_service:
        _put_sender(obj, m.sender, "actor")
        if m.service_action == INFORMATION_TEXT_ACTION:
            obj["information_text"] = m.text  # Desktop names no action for these
        elif m.service_action:
            obj["action"] = m.service_action
        if m.reply_to_id is not None:
            obj[REPLY_LABELS.get(m.service_action or "", "reply_to_message_id")] = m.reply_to_id
    else:
        _put_sender(obj, m.sender, "from")
        if m.reply_to_id is not None:
            obj["reply_to_message_id"] = m.reply_to_id
        if m.forward_from_name is not None or m.forward_from_id is not None:
            obj["forwarded_from"] = m.forward_from_name
            if m.forward_from_id is not None:
                obj["forwarded_from_id"] = peer_ref(m.forward_from_id)
        if item.show_media:
            _put_media(obj, m, item.media_path)
    obj["text"] = m.text
    obj["text_entities"] = text_entities(m.text)
    reactions = reaction_objects(m.reactions)
    if reactions:
        obj["reactions"] = reactions
    return obj


class DesktopJsonWriter:
    """Telegram Desktop's single-chat ``result.json``, one message object per entry."""

    extension = "json"
    separator = ","

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz

    def begin(self, header: ExportHeader) -> str:
        chat = header.chat
        return (
            "{\n"
            f' "name": {render_json(chat.title)},\n'
            f' "type": {render_json(desktop_chat_type(chat))},\n'
            f' "id": {chat.raw_id},\n'
            ' "messages": ['
        )

    def render(self, item: ExportItem) -> str:
        body = render_json(message_object(item, self._tz), MESSAGE_INDENT)
        return f"\n{' ' * MESSAGE_INDENT}{body}"

    def render_bytes(self, item: ExportItem) -> bytes:
        return self.render(item).encode()

    def end(self) -> str:
        return "\n ]\n}\n"
