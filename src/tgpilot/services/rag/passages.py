"""What the archive index stores per chunk and what search hands back: payloads,
passages, snippets and ``t.me`` links (spec ai.md §4.9)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tgpilot.models import Chat, ChatType
from tgpilot.services.rag.chunking import MessageChunk, sender_name

SNIPPET_CHARS = 240
ELLIPSIS = "…"
COLLECTION_PREFIX = "messages__"


def collection_name(model: str, dimension: int) -> str:
    """``messages__<model>__<dim>``, the model name made safe for Qdrant."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model)
    return f"{COLLECTION_PREFIX}{safe}__{dimension}"


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """``text`` on one line, cut to at most ``limit`` characters (code points, so the
    result is always valid UTF-8), ending in ``…`` when cut."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def message_link(chat_id: int, raw_id: int, username: str | None, message_id: int) -> str:
    """``https://t.me/<username>/<msg>`` for public chats, else
    ``https://t.me/c/<raw id>/<msg>``."""
    if username:
        return f"https://t.me/{username}/{message_id}"
    return f"https://t.me/c/{raw_id or abs(chat_id)}/{message_id}"


def chunk_payload(
    chunk: MessageChunk, chat: Chat, topics: tuple[str, ...], sentiment: str
) -> dict[str, Any]:
    """The payload stored with a chunk's point."""
    messages = chunk.messages
    first = messages[0]
    senders = list(dict.fromkeys(sender_name(m) for m in messages))
    sender_ids = list(dict.fromkeys(m.sender.id for m in messages if m.sender and m.sender.id))
    return {
        "chat_id": chat.id,
        "chat_title": chat.title,
        "chat_raw_id": chat.raw_id,
        "chat_username": chat.username if chat.type is not ChatType.USER else None,
        "message_ids": [m.id for m in messages],
        "sender_ids": sender_ids,
        "sender_names": senders,
        "date": first.date.astimezone(UTC).isoformat(),
        "ts": first.date.timestamp(),
        "last_ts": messages[-1].date.timestamp(),
        "is_outgoing": any(m.is_outgoing for m in messages),
        "reply_to": [m.reply_to_id for m in messages if m.reply_to_id is not None],
        "reaction_count": sum(m.reactions_total for m in messages),
        "topics": list(topics),
        "sentiment": sentiment,
        "text": chunk.text,
    }


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk, ready to show or to hand to a model as a source."""

    score: float
    chat_id: int
    chat_title: str
    message_ids: tuple[int, ...]
    sender_names: tuple[str, ...]
    date: datetime
    text: str
    link: str

    @property
    def sender(self) -> str:
        return ", ".join(self.sender_names) or "Unknown sender"

    @property
    def snippet(self) -> str:
        return snippet(self.text)

    def to_json(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "chat_id": self.chat_id,
            "chat": self.chat_title,
            "message_ids": list(self.message_ids),
            "date": self.date.isoformat(),
            "sender": self.sender,
            "snippet": self.snippet,
            "link": self.link,
        }


def passage_from_payload(payload: Mapping[str, Any], score: float) -> Passage:
    """The passage a stored point describes."""
    ids = tuple(int(i) for i in payload.get("message_ids") or ())
    chat_id = int(payload.get("chat_id", 0))
    link = message_link(
        chat_id,
        int(payload.get("chat_raw_id") or 0),
        payload.get("chat_username"),
        ids[0] if ids else 0,
    )
    return Passage(
        score=score,
        chat_id=chat_id,
        chat_title=str(payload.get("chat_title", "")),
        message_ids=ids,
        sender_names=tuple(str(n) for n in payload.get("sender_names") or ()),
        date=datetime.fromtimestamp(float(payload.get("ts", 0.0)), UTC),
        text=str(payload.get("text", "")),
        link=link,
    )
