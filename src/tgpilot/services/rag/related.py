"""Store queries beside semantic search (spec ai.md §4.9): who a person interacts with
(``rag related USER``) and a message's reply chain (``rag thread CHAT MSG``).

Interaction scores: a reply either way ×3, a mention either way ×2, and a message
within 10 minutes of one of the person's in a shared chat ×1. The thread is rebuilt
from reply links, whatever order the store holds the messages in.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from tgpilot.core.errors import UsageError
from tgpilot.models import Chat, Message, Sender
from tgpilot.services.rag.archive import ArchiveReader
from tgpilot.services.rag.chunking import person_name

REPLY_WEIGHT = 3
MENTION_WEIGHT = 2
NEARBY_WEIGHT = 1
NEARBY = timedelta(minutes=10)


@dataclass(frozen=True)
class RelatedPerson:
    """One person and how much they interact with the one asked about."""

    sender_id: int
    name: str
    score: int
    replies: int
    mentions: int
    nearby: int
    chats: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.sender_id,
            "name": self.name,
            "score": self.score,
            "replies": self.replies,
            "mentions": self.mentions,
            "nearby": self.nearby,
            "chats": list(self.chats),
        }


def _matches(sender: Sender, wanted: str) -> bool:
    text = wanted.strip()
    if text.lstrip("-").isdigit():
        return sender.id == int(text)
    if text.startswith("@"):
        return (sender.username or "").casefold() == text[1:].casefold()
    folded = text.casefold()
    return folded == sender.name.casefold() or folded == (sender.username or "").casefold()


def _mentions(message: Message, sender: Sender) -> bool:
    if not sender.username:
        return False
    return f"@{sender.username}".casefold() in message.text.casefold()


@dataclass
class _Tally:
    sender: Sender
    replies: int = 0
    mentions: int = 0
    nearby: int = 0
    chats: set[str] | None = None

    def add_chat(self, title: str) -> None:
        if self.chats is None:
            self.chats = set()
        self.chats.add(title)


async def related_people(
    reader: ArchiveReader, person: str, *, limit: int = 20
) -> tuple[Sender, list[RelatedPerson]]:
    """Who ``person`` (id, ``@username`` or exact name) interacts with most, best first.
    A person the archive does not know is a UsageError."""
    who: Sender | None = None
    tallies: dict[int, _Tally] = {}
    for chat in await reader.chats():
        messages = [m async for m in reader.messages(chat.id)]
        if who is None:
            who = next(
                (m.sender for m in messages if m.sender and _matches(m.sender, person)), None
            )
        if who is not None:
            _score_chat(chat, messages, who, tallies)
    if who is None:
        raise UsageError(f"no archived message from {person!r}", hint="give an id or @username")
    people = [
        RelatedPerson(
            sender_id=sid,
            name=person_name(t.sender),
            score=t.replies * REPLY_WEIGHT + t.mentions * MENTION_WEIGHT + t.nearby * NEARBY_WEIGHT,
            replies=t.replies,
            mentions=t.mentions,
            nearby=t.nearby,
            chats=tuple(sorted(t.chats or ())),
        )
        for sid, t in tallies.items()
    ]
    people = [p for p in people if p.score > 0]
    people.sort(key=lambda p: (-p.score, p.name.casefold(), p.sender_id))
    return who, people[:limit]


def _score_chat(
    chat: Chat, messages: list[Message], who: Sender, tallies: dict[int, _Tally]
) -> None:
    by_id = {m.id: m for m in messages}
    mine = sorted(m.date for m in messages if m.sender is not None and m.sender.id == who.id)
    if not mine:
        return

    def tally(sender: Sender) -> _Tally:
        assert sender.id is not None
        found = tallies.get(sender.id)
        if found is None:
            found = tallies[sender.id] = _Tally(sender)
        found.add_chat(chat.title)
        return found

    for message in messages:
        sender = message.sender
        if sender is None or sender.id is None or sender.is_bot:
            continue
        parent = by_id.get(message.reply_to_id) if message.reply_to_id is not None else None
        parent_sender = parent.sender if parent is not None else None
        if sender.id == who.id:
            if parent_sender is not None and parent_sender.id not in (None, who.id):
                tally(parent_sender).replies += 1
            continue
        other = tally(sender)
        if parent_sender is not None and parent_sender.id == who.id:
            other.replies += 1
        if _mentions(message, who):
            other.mentions += 1
        spot = bisect.bisect_left(mine, message.date)
        near = [mine[i] for i in (spot - 1, spot) if 0 <= i < len(mine)]
        if any(abs(message.date - d) <= NEARBY for d in near):
            other.nearby += 1
    for message in messages:
        sender = message.sender
        if sender is not None and sender.id == who.id:
            for tally_ in tallies.values():
                if tally_.sender.id != who.id and _mentions(message, tally_.sender):
                    tally_.mentions += 1


@dataclass(frozen=True)
class ThreadLine:
    """One message of a reply chain and its depth (0: the message asked about; negative:
    what it replies to; positive: replies to it)."""

    depth: int
    message: Message


async def reply_thread(
    reader: ArchiveReader, chat: Chat, message_id: int, *, depth: int = 10
) -> list[ThreadLine]:
    """The chain around ``message_id``: its ancestors up to ``depth`` (oldest first),
    the message, then replies below it up to ``depth`` levels, by date."""
    messages = {m.id: m async for m in reader.messages(chat.id)}
    target = messages.get(message_id)
    if target is None:
        raise UsageError(f"message {message_id} is not archived in {chat.title}")
    up: list[Message] = []
    current = target
    seen = {target.id}
    while current.reply_to_id is not None and len(up) < depth:
        parent = messages.get(current.reply_to_id)
        if parent is None or parent.id in seen:
            break
        seen.add(parent.id)
        up.append(parent)
        current = parent
    lines = [ThreadLine(-(i + 1), m) for i, m in enumerate(up)][::-1]
    lines.append(ThreadLine(0, target))
    children: defaultdict[int, list[Message]] = defaultdict(list)
    for message in messages.values():
        if message.reply_to_id is not None:
            children[message.reply_to_id].append(message)
    lines.extend(_below(target.id, children, depth, seen))
    return lines


def _below(
    root: int, children: dict[int, list[Message]], depth: int, seen: set[int]
) -> list[ThreadLine]:
    found: list[ThreadLine] = []
    level: Sequence[int] = [root]
    for step in range(1, depth + 1):
        nxt = sorted(
            (c for parent in level for c in children.get(parent, ()) if c.id not in seen),
            key=lambda m: (m.date, m.id),
        )
        if not nxt:
            break
        for child in nxt:
            seen.add(child.id)
            found.append(ThreadLine(step, child))
        level = [c.id for c in nxt]
    return found
