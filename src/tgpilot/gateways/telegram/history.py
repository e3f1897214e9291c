"""A chat's history as an async iterator of domain messages, newest first.

Pages of 100 (``messages.getHistory``), so a full read of N messages costs ceil(N/100)
requests; ``until`` is exclusive and passed to the server as the offset date, ``since``
is inclusive and ends the walk at the first older message.

The pages are asked for and walked as Telethon's ``iter_messages`` walks them (same
requests, offsets and stop rules, through the client's request layer and so its
flood-wait policy), but each raw message is converted straight from the page: the
sender and forward origin are looked up in the page's users and chats
(:class:`~tgpilot.gateways.telegram.convert.PageConverter`) instead of Telethon
finishing every message first, which is most of the per-message cost of a long read.
Only messages with media are finished, for the downloader (a download needs the
message's chat to refresh an expired file reference).

With ``search``, the pages come from Telegram's in-chat search (``messages.search``,
the request ``iter_messages(search=...)`` sends) instead, walked by the same rules:
``until`` is its ``max_date`` on the first page only (later pages go on from the last
id, as Telethon's do), ``since`` and ``min_id`` still end the walk locally.

The session stores each user and chat a page names once per read (and again only when
it changed), not once per page: Telethon's own per-response write is paused while a
page is fetched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime
from typing import Any

from telethon import utils
from telethon.tl import functions, types

from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.gateways.telegram.convert import PageConverter
from tgpilot.models import Chat, Message

PAGE_SIZE = 100
"""Messages per ``messages.getHistory`` (or ``messages.search``) request (the server's
maximum)."""


async def iter_history(
    client: PolicyClient,
    chat: Chat,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    min_id: int = 0,
    offset_id: int = 0,
    search: str | None = None,
    remember: Callable[[Any, Message], None] | None = None,
) -> AsyncIterator[Message]:
    """Messages of ``chat`` in [since, until), newest first, at most ``limit`` (None or 0 = all).

    ``min_id`` reads only messages with a greater id; ``offset_id`` starts below that
    id (resuming a backfill). ``search`` (not blank) reads only the messages Telegram's
    in-chat search finds for it.
    ``remember(raw, message)`` sees each Telethon message that has media (the media
    downloader keeps the latest ones so downloads need no extra request).
    """
    if offset_id and min_id and offset_id - min_id <= 1:
        return
    peer = await client.get_input_entity(chat.id)
    converter = PageConverter(chat, client._self_id)
    entity_log = _EntityLog(client.session)
    left = limit or None
    last_id: int | None = None
    request = _first_request(peer, search, offset_id, until)
    searching = isinstance(request, functions.messages.SearchRequest)
    while left is None or left > 0:
        request.limit = PAGE_SIZE if left is None else min(left, PAGE_SIZE)
        page = await entity_log.fetch(client, request)
        raws = page.messages
        entities = {utils.get_peer_id(e): e for e in (*page.users, *page.chats)}
        last: Any = None
        for raw in raws:
            if isinstance(raw, types.MessageEmpty):
                continue
            if (last_id is not None and raw.id >= last_id) or raw.id <= min_id:
                return
            last_id = raw.id
            last = raw
            message = converter.convert(raw, entities)
            if since is not None and message.date < since:
                return
            if remember is not None and message.media_type is not None:
                raw._finish_init(client, entities, peer)
                remember(raw, message)
            yield message
            if left is not None:
                left -= 1
                if left <= 0:
                    return
        # Not a slice: the whole history came at once. A page whose newest id is at
        # most the count asked for reached message 1. An empty page is the end.
        if isinstance(page, types.messages.Messages) or last is None:
            return
        if raws[0].id <= request.limit:
            return
        request.offset_id = last.id
        if searching:
            request.max_date = None  # a bound, not an offset: the id carries on from here
        else:
            request.offset_date = last.date
        # Let this page go before the next is read: objects still alive while the next
        # page is parsed would be promoted to the garbage collector's oldest generation
        # and bring on its full collections (which visit every object of the process).
        del page, raws, entities, last, raw, message


def _first_request(
    peer: Any, search: str | None, offset_id: int, until: datetime | None
) -> functions.messages.GetHistoryRequest | functions.messages.SearchRequest:
    """The first page's request: the history, or Telegram's search for ``search``."""
    if search is not None and search.strip():
        return functions.messages.SearchRequest(
            peer=peer,
            q=search,
            filter=types.InputMessagesFilterEmpty(),
            min_date=None,
            max_date=until,
            offset_id=offset_id,
            add_offset=0,
            limit=PAGE_SIZE,
            max_id=0,
            min_id=0,
            hash=0,
        )
    return functions.messages.GetHistoryRequest(
        peer=peer,
        offset_id=offset_id,
        offset_date=until,
        add_offset=0,
        limit=PAGE_SIZE,
        max_id=0,
        min_id=0,
        hash=0,
    )


class _EntityLog:
    """Saves the users and chats of history pages to the session once each (again
    when they change) instead of with every page."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._saved: dict[tuple[type, int], tuple[object, ...]] = {}

    async def fetch(self, client: PolicyClient, request: Any) -> Any:
        """Send ``request`` with the session's own entity saving paused; then save the
        entities of the answer the session has not seen from this read."""
        session = self._session
        saving = session.save_entities
        session.save_entities = False
        try:
            page = await client(request)
        finally:
            session.save_entities = saving
        if saving:
            fresh = self._fresh((*page.users, *page.chats))
            if fresh:
                session.process_entities(fresh)
        return page

    def _fresh(self, entities: Iterable[Any]) -> list[Any]:
        fresh = []
        for entity in entities:
            key = (entity.__class__, entity.id)
            seen = (
                getattr(entity, "access_hash", None),
                getattr(entity, "username", None),
                getattr(entity, "phone", None),
                getattr(entity, "first_name", None),
                getattr(entity, "last_name", None),
                getattr(entity, "title", None),
                getattr(entity, "min", None),
            )
            if self._saved.get(key) != seen:
                self._saved[key] = seen
                fresh.append(entity)
        return fresh
