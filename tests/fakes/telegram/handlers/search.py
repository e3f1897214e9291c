"""In-chat search: ``messages.search`` with a text query.

Telegram's matching, case-folded: every word of ``q`` must start a word of the
message's text ("hel wor" finds "Hello, World!", "ello" does not); service messages
and messages without text never match. A blank ``q`` with no filter is
``SEARCH_QUERY_EMPTY``. Only ``inputMessagesFilterEmpty`` is served (any other filter is
a :class:`~tests.fakes.telegram.errors.FakeNotImplementedError`); ``from_id`` keeps the
messages of that sender.

The hits are a newest-first list paged like ``getHistory`` (``offset_id``,
``add_offset``, ``limit`` ≤ 100), but ``max_id``/``min_id`` and
``min_date``/``max_date`` narrow the hits before paging, as the server's index does:
messages with ``min_id < id < max_id`` and ``min_date < date < max_date`` (0 / unset:
no bound). ``count`` is the number of hits; the answer's constructor follows
``getHistory``'s rules (``messages.Messages`` when one page holds every hit).
"""

from __future__ import annotations

import re
from datetime import datetime

from telethon.tl import functions, types

from tests.fakes.telegram.errors import FakeNotImplementedError, RpcFail
from tests.fakes.telegram.model import ChatRec, MessageRec
from tests.fakes.telegram.peers import input_peer

from .messages import history_page, messages_answer
from .registry import Context, handles

WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The case-folded words of ``text`` (runs of letters, digits and underscores)."""
    return WORD.findall(text.casefold())


def text_matches(text: str, query: str) -> bool:
    """Whether Telegram's in-chat search finds a message with ``text`` for ``query``."""
    wanted = words(query)
    if not wanted or not text:
        return False
    have = words(text)
    return all(any(word.startswith(part) for word in have) for part in wanted)


def _in_range(
    message: MessageRec,
    *,
    min_id: int,
    max_id: int,
    min_date: datetime | None,
    max_date: datetime | None,
) -> bool:
    if (min_id and message.id <= min_id) or (max_id and message.id >= max_id):
        return False
    stamp = message.date.timestamp()
    low, high = _stamp(min_date), _stamp(max_date)
    return (not low or stamp > low) and (not high or stamp < high)


def _stamp(date: datetime | None) -> float:
    """A date bound as a Unix time; 0 when unset (None, or 0 on the wire)."""
    return date.timestamp() if date is not None else 0.0


@handles(functions.messages.SearchRequest)
def search(
    ctx: Context, req: functions.messages.SearchRequest
) -> types.messages.Messages | types.messages.MessagesSlice | types.messages.ChannelMessages:
    if not isinstance(req.filter, types.InputMessagesFilterEmpty):
        raise FakeNotImplementedError(ctx.outer, f"SearchRequest({type(req.filter).__name__})")
    if not req.q.strip():
        raise RpcFail("SEARCH_QUERY_EMPTY")
    marked = input_peer(ctx, req.peer)
    sender = input_peer(ctx, req.from_id) if req.from_id is not None else None
    chat = ctx.world.peer(marked)
    hits = [
        message
        for message in ctx.world.history(marked)
        if not message.is_service
        and (sender is None or message.sender == sender)
        and _in_range(
            message,
            min_id=req.min_id,
            max_id=req.max_id,
            min_date=req.min_date,
            max_date=req.max_date,
        )
        and text_matches(message.text, req.q)
    ]
    page = history_page(
        hits,
        offset_id=req.offset_id,
        offset_date_ts=None,
        add_offset=req.add_offset,
        limit=req.limit,
        max_id=0,
        min_id=0,
    )
    renderer = ctx.renderer()
    renderer.note(marked)
    return messages_answer(renderer, chat if isinstance(chat, ChatRec) else None, page, len(hits))
