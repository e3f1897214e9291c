"""Telegram Desktop export objects → tgpilot's domain objects (spec telegram-cli §3.5).

A chat head becomes a :class:`~tgpilot.models.Chat` (bare id + Desktop type → marked
id); a message object becomes a :class:`~tgpilot.models.Message` carrying what a live
sync of the same message stores:

- sender from ``from``/``from_id`` (``actor``/``actor_id`` for service messages):
  ``user123`` → 123, ``channel123`` → -100123, ``chat123`` → -123; named as live
  senders are (full name, else ``User <id>``; a chat's title plus ``(<author>)`` when
  signed); a channel post without sender is the channel itself; a sender is a bot
  when the message carries its own inline keyboard (``inline_bot_buttons`` without
  ``via_bot``: only bots attach keyboards) or is the bot of a ``bot_chat`` — the
  export names no other bot flag;
- text: a string, or the array of strings and ``{type, text}`` parts joined;
- dates: ``*_unixtime`` wins, else the wall time is read in the import zone;
- media kind from ``photo`` / ``file`` + ``media_type`` (sticker, video_message →
  round, voice_message → voice, audio_file → audio, animation, video_file → video,
  none → document), polls, places and contacts → ``other``; size and file name;
- reactions ``emoji``/``custom_emoji``/``paid`` (others ``unknown``), empty counts
  dropped; a reaction is the account's own when its ``recent`` list names the account;
- service messages: the Desktop ``action`` name (as live rows carry it, see
  :mod:`tgpilot.gateways.telegram.service_actions`) and the message they refer to.

Objects that are not messages (``unsupported``, no id, no date) give None: skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any

from tgpilot.models import CHANNEL_ID_OFFSET, Chat, ChatType, Message, Reaction, Sender, marked_id
from tgpilot.services.desktop_import.format import (
    CHAT_TYPES,
    INFORMATION_TEXT_ACTION,
    MEDIA_KINDS,
    OTHER_MEDIA_KEYS,
    REPLY_LABELS,
    UNNAMED_CHAT_TITLES,
    is_skip_note,
    parse_peer_ref,
    parse_time,
)
from tgpilot.services.desktop_import.reader import ChatHead

MESSAGE_TYPES = ("message", "service")


@dataclass(frozen=True)
class ImportedMessage:
    """A message read from an export, with the export-relative path of its media file
    (None when the export did not include the file)."""

    message: Message
    media_file: str | None = None


def chat_from_head(head: ChatHead) -> Chat | None:
    """The chat a Desktop chat head names, or None if its type or id is unusable."""
    if head.type is None or head.id is None:
        return None
    kind = CHAT_TYPES.get(head.type)
    if kind is None:
        return None
    raw_id = abs(head.id)
    title = head.name or UNNAMED_CHAT_TITLES.get(head.type) or f"{kind.value.capitalize()} {raw_id}"
    return Chat(id=marked_id(raw_id, kind), raw_id=raw_id, type=kind, title=title)


def joined_text(value: object) -> str:
    """A Desktop ``text``: the string itself, or its parts (strings and ``{text}``) joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts: list[str] = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return ""


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _raw_of(peer: int) -> int:
    if peer > 0:
        return peer
    if peer <= -CHANNEL_ID_OFFSET:
        return -peer - CHANNEL_ID_OFFSET
    return -peer


def sender_of(name: object, ref: object, author: object, chat: Chat) -> Sender | None:
    """The sender of a message (or actor of a service message), named as live ones are."""
    peer = parse_peer_ref(ref)
    shown = name.strip() if isinstance(name, str) else ""
    signature = author.strip() if isinstance(author, str) else ""
    if peer is None:
        if shown:
            return Sender(id=None, name=shown)
        if chat.type is ChatType.CHANNEL:
            title = f"{chat.title} ({signature})" if signature else chat.title
            return Sender(id=chat.id, name=title)
        return None
    if peer > 0:
        return Sender(id=peer, name=shown or f"User {peer}")
    title = shown or f"Chat {_raw_of(peer)}"
    if signature:
        title = f"{title} ({signature})"
    return Sender(id=peer, name=title)


def reactions_of(value: object, self_id: int | None) -> tuple[Reaction, ...]:
    """Desktop ``reactions`` as :class:`Reaction` objects in file order; empty counts
    and malformed entries are dropped."""
    if not isinstance(value, list):
        return ()
    out: list[Reaction] = []
    for item in value:
        if not isinstance(item, dict):
            continue
        count = _int(item.get("count"))
        if count is None or count <= 0:
            continue
        mine = self_id is not None and any(
            isinstance(r, dict) and parse_peer_ref(r.get("from_id")) == self_id
            for r in item.get("recent") or ()
        )
        kind = item.get("type")
        if kind == "emoji" and isinstance(item.get("emoji"), str):
            out.append(Reaction("emoji", count, emoji=item["emoji"], mine=mine))
        elif kind == "custom_emoji" and _int(item.get("document_id")) is not None:
            out.append(
                Reaction("custom_emoji", count, document_id=_int(item["document_id"]), mine=mine)
            )
        elif kind == "paid":
            out.append(Reaction("paid", count, mine=mine))
        else:
            out.append(Reaction("unknown", count, mine=mine))
    return tuple(out)


def _path(value: object) -> str | None:
    if not isinstance(value, str) or not value or is_skip_note(value):
        return None
    return value


def media_of(raw: dict[str, Any]) -> tuple[str | None, int | None, str | None, str | None]:
    """(kind, size, original file name, export-relative path) of a message's media."""
    if "photo" in raw:
        return "photo", _int(raw.get("photo_file_size")), None, _path(raw.get("photo"))
    if "file" in raw:
        desktop_type = raw.get("media_type")
        kind = (
            MEDIA_KINDS.get(desktop_type, "document")
            if isinstance(desktop_type, str)
            else ("document")
        )
        path = _path(raw.get("file"))
        name = raw.get("file_name")
        if not isinstance(name, str) or not name:
            name = path.rsplit("/", 1)[-1] if path and kind == "document" else None
        return kind, _int(raw.get("file_size")), name, path
    if any(key in raw for key in OTHER_MEDIA_KEYS):
        return "other", None, None, None
    return None, None, None, None


def _service_action(raw: dict[str, Any]) -> str | None:
    action = raw.get("action")
    if isinstance(action, str) and action:
        return action
    if "information_text" in raw:
        return INFORMATION_TEXT_ACTION
    return None


def _sent_by_bot(raw: dict[str, Any], chat: Chat, sender: Sender) -> bool:
    """True if the export shows the sender is a bot: the bot of a bot chat, or a
    message with an inline keyboard of its own (not one sent ``via_bot`` by a person)."""
    if chat.type is ChatType.BOT and sender.id == chat.id:
        return True
    buttons = raw.get("inline_bot_buttons")
    return isinstance(buttons, list) and bool(buttons) and not raw.get("via_bot")


def message_from_desktop(
    raw: object, chat: Chat, *, tz: tzinfo, self_id: int | None = None
) -> ImportedMessage | None:
    """The message a Desktop message object describes, or None to skip it."""
    if not isinstance(raw, dict) or raw.get("type") not in MESSAGE_TYPES:
        return None
    message_id = _int(raw.get("id"))
    date = parse_time(raw.get("date"), raw.get("date_unixtime"), tz)
    if message_id is None or date is None:
        return None
    is_service = raw["type"] == "service"
    edit_date = parse_time(raw.get("edited"), raw.get("edited_unixtime"), tz)
    media_type = media_size = media_name = media_file = None
    action: str | None = None
    forward_id: int | None = None
    forward_name: str | None = None
    if is_service:
        sender = sender_of(raw.get("actor"), raw.get("actor_id"), None, chat)
        action = _service_action(raw)
        label = REPLY_LABELS.get(action or "", "reply_to_message_id")
        reply_to = _int(raw.get(label))
        if reply_to is None:
            reply_to = _int(raw.get("reply_to_message_id"))
    else:
        sender = sender_of(raw.get("from"), raw.get("from_id"), raw.get("author"), chat)
        reply_to = _int(raw.get("reply_to_message_id"))
        if "forwarded_from" in raw or "forwarded_from_id" in raw:
            name = raw.get("forwarded_from")
            forward_name = name if isinstance(name, str) else None
            forward_id = parse_peer_ref(raw.get("forwarded_from_id"))
        media_type, media_size, media_name, media_file = media_of(raw)
    if sender is not None and not is_service and _sent_by_bot(raw, chat, sender):
        sender = replace(sender, is_bot=True)
    outgoing = self_id is not None and sender is not None and sender.id == self_id
    message = Message(
        chat_id=chat.id,
        id=message_id,
        date=date,
        text=joined_text(raw.get("text")),
        sender=sender,
        reply_to_id=reply_to,
        forward_from_id=forward_id,
        forward_from_name=forward_name,
        edit_date=edit_date,
        media_type=media_type,
        media_size=media_size,
        media_name=media_name,
        reactions=reactions_of(raw.get("reactions"), self_id),
        is_outgoing=outgoing,
        is_service=is_service,
        service_action=action,
    )
    return ImportedMessage(message, media_file)
