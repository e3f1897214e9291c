"""What the tools return: domain objects as plain JSON records (spec §6).

Everything written by third parties — message text, sender names, chat titles and
usernames, snippets, digests — sits in a record carrying ``"untrusted": true``, so an
agent can tell data from instructions. Times are UTC ISO 8601.
"""

from __future__ import annotations

from typing import Any

from tgpilot.core.output import iso_time
from tgpilot.models import Chat, Message
from tgpilot.services.rag.passages import Passage
from tgpilot.store.records import SearchHit

UNTRUSTED = {"untrusted": True}


def chat_record(chat: Chat) -> dict[str, Any]:
    """``{id, type, title, username}`` of a chat (title and username are untrusted)."""
    return {
        "id": chat.id,
        "type": chat.type.value,
        "title": chat.title,
        "username": chat.username,
        **UNTRUSTED,
    }


def message_record(message: Message) -> dict[str, Any]:
    """One message with the fields of ``get_messages``."""
    sender = message.sender
    return {
        "id": message.id,
        "date": iso_time(message.date),
        "sender_id": sender.id if sender else None,
        "sender": sender.name if sender else None,
        "reply_to": message.reply_to_id,
        "views": message.views,
        "forwards": message.forwards,
        "reactions": [
            {"emoji": r.emoji or r.type, "count": r.count, "mine": r.mine}
            for r in message.reactions
        ],
        "has_media": message.media_type is not None,
        "text": message.text,
        **UNTRUSTED,
    }


def fulltext_hit(hit: SearchHit, titles: dict[int, str]) -> dict[str, Any]:
    """A store full-text hit: chat, id, date, sender, snippet and score."""
    return {
        "chat_id": hit.chat_id,
        "chat": titles.get(hit.chat_id, ""),
        "message_id": hit.message_id,
        "date": iso_time(hit.date),
        "sender": hit.sender_name,
        "snippet": hit.text,
        "score": hit.rank,
        **UNTRUSTED,
    }


def semantic_hit(passage: Passage) -> dict[str, Any]:
    """A semantic hit from the vector index, in the same shape as a full-text hit."""
    return {
        "chat_id": passage.chat_id,
        "chat": passage.chat_title,
        "message_id": passage.message_ids[0] if passage.message_ids else None,
        "message_ids": list(passage.message_ids),
        "date": iso_time(passage.date),
        "sender": passage.sender,
        "snippet": passage.snippet,
        "score": passage.score,
        **UNTRUSTED,
    }


def chat_ids(chat: Chat) -> dict[str, Any]:
    """Both spellings of a chat's id: the raw MTProto id and the Bot-API (marked) id."""
    return {"raw_id": chat.raw_id, "bot_api_id": chat.id}
