"""Following the whole account: catch up by id, then take pushed updates, forever.

After every (re)connect — and at start, which is what lets a restart resume — the feed
reads, per chat, the messages above the handlers' cursors: the chats handlers follow
by name, plus the newest dialogs whose top message moved past the cursor of a handler
that follows every chat (bounded by that handler's :meth:`catch_up_since`). Then it
hands over each pushed update. The feed is opened before catching up, so nothing
pushed meanwhile is lost; the dispatcher drops what it has already queued, so nothing
is repeated. A lost connection is retried with back-off (1 s doubling to 60 s) for as
long as the process runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Literal, NoReturn

from tgpilot.core.clock import Clock
from tgpilot.core.errors import NetworkError, NotAuthorized, TgpilotError
from tgpilot.gateways.telegram.account_feed import AccountFeed, AccountUpdate
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.models import Chat
from tgpilot.services.runtime.dispatcher import Dispatcher
from tgpilot.services.runtime.handler import Delivery
from tgpilot.services.runtime.health import RunHealth
from tgpilot.services.runtime.metrics import RunMetrics

DIALOGS_TO_CHECK = 100
"""Newest dialogs looked at after a reconnect for handlers that follow every chat."""
NAMED_CHAT_LIMIT = 1000
"""Most messages read per named chat when catching up (the newest ones)."""
OPEN_CHAT_LIMIT = 100
"""Most messages read per other chat when catching up."""
MAX_BACKOFF_S = 60.0


class AccountFollower:
    """Feeds a dispatcher from the account's updates (see the module docstring)."""

    def __init__(
        self,
        gateway: TelegramGateway,
        dispatcher: Dispatcher,
        *,
        clock: Clock,
        log: Callable[[str], None],
        metrics: RunMetrics,
        health: RunHealth,
    ) -> None:
        self._gateway = gateway
        self._dispatcher = dispatcher
        self._clock = clock
        self._log = log
        self._metrics = metrics
        self._health = health

    async def run(self) -> NoReturn:
        """Follow until cancelled (NotAuthorized ends it: the session was revoked)."""
        async with self._gateway.account_feed() as feed:
            while True:
                try:
                    await self.catch_up()
                    self._connected(True)
                    while (update := await self._next(feed)) is not False:
                        if update is not None:
                            self._dispatcher.dispatch(Delivery(update, self._clock.monotonic()))
                except NotAuthorized:
                    raise
                except NetworkError as exc:
                    self._log(f"lost the connection to Telegram: {exc.message}")
                self._connected(False)
                self._log("connection to Telegram lost; reconnecting")
                await self._reconnect()

    async def _next(self, feed: AccountFeed) -> AccountUpdate | Literal[False] | None:
        """The next update; None for one that could not be read (logged, skipped);
        False once the connection is lost."""
        try:
            update = await feed.next()
        except (NetworkError, NotAuthorized):
            raise
        except Exception as exc:
            self._log(f"skipped an update that could not be read: {type(exc).__name__}: {exc}")
            return None
        return False if update is None else update

    async def catch_up(self) -> int:
        """Dispatch what was missed; returns how many messages were read."""
        chats = await self._chats_to_read()
        read = 0
        for chat, since in chats.values():
            followers = [h for h in self._dispatcher.handlers if _follows(h.scope(), chat.id)]
            min_id = min(self._dispatcher.seen(h.name, chat.id) for h in followers)
            limit = OPEN_CHAT_LIMIT if since is not None else NAMED_CHAT_LIMIT
            try:
                updates = await self._gateway.missed_updates(
                    chat, min_id=min_id, limit=limit, since=since
                )
            except (NetworkError, NotAuthorized):
                raise
            except TgpilotError as exc:
                self._log(f"could not catch up on {chat.title}: {exc.message}")
                continue
            for update in updates:
                self._dispatcher.dispatch(Delivery(update, self._clock.monotonic(), True))
            read += len(updates)
        return read

    async def _chats_to_read(self) -> dict[int, tuple[Chat, datetime | None]]:
        chats: dict[int, tuple[Chat, datetime | None]] = {}
        open_handlers = []
        for handler in self._dispatcher.handlers:
            scope = handler.scope()
            if scope is None:
                open_handlers.append(handler)
                continue
            for chat in scope.values():
                chats[chat.id] = (chat, None)
        if not open_handlers:
            return chats
        bounds = [h.catch_up_since() for h in open_handlers]
        since = None if None in bounds else min(b for b in bounds if b is not None)
        for chat, top_id, top_date in await self._gateway.recent_dialogs(DIALOGS_TO_CHECK):
            if chat.id in chats or top_id == 0:
                continue
            if since is not None and top_date is not None and top_date < since:
                continue
            if all(top_id <= self._dispatcher.seen(h.name, chat.id) for h in open_handlers):
                continue
            chats[chat.id] = (chat, since)
        return chats

    async def _reconnect(self) -> None:
        delay = 1.0
        while True:
            try:
                await self._gateway.reconnect()
            except NetworkError as exc:
                self._log(f"reconnecting failed ({exc.message}); next try in {delay:g} s")
                await self._clock.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
                continue
            self._metrics.reconnects.inc()
            return

    def _connected(self, connected: bool) -> None:
        self._health.connected = connected
        self._metrics.connected.set(1 if connected else 0)


def _follows(scope: Mapping[int, Chat] | None, chat_id: int) -> bool:
    return scope is None or chat_id in scope
