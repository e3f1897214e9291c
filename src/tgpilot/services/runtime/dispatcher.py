"""Handing each update to every handler that wants it, once, with failures isolated.

Every handler has its own queue and worker task, so handlers run side by side and in
order per handler. For new messages the dispatcher remembers the newest id it queued
per handler and chat (starting from the stored cursors): a message at or below it —
a catch-up read overlapping what was pushed, or Telegram's own difference after a
reconnect — is dropped. A handler's exception is logged with the handler, chat and
message, counted, and the worker goes on with the next message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from tgpilot.core.clock import Clock
from tgpilot.core.errors import TgpilotError
from tgpilot.services.runtime.cursors import CursorBook
from tgpilot.services.runtime.handler import Delivery, MessageHandler
from tgpilot.services.runtime.metrics import RunMetrics


class Dispatcher:
    """Queues and workers of the message handlers of one host."""

    def __init__(
        self,
        handlers: Sequence[MessageHandler],
        cursors: CursorBook,
        metrics: RunMetrics,
        clock: Clock,
        log: Callable[[str], None],
    ) -> None:
        self.handlers = list(handlers)
        self._cursors = cursors
        self._metrics = metrics
        self._clock = clock
        self._log = log
        self._queues: dict[str, asyncio.Queue[tuple[Delivery, bool]]] = {
            h.name: asyncio.Queue() for h in self.handlers
        }
        self._queued: dict[str, dict[int, int]] = {h.name: {} for h in self.handlers}
        self._workers: list[asyncio.Task[None]] = []
        self.failures: dict[str, int] = {h.name: 0 for h in self.handlers}

    def start(self) -> None:
        """Start one worker per handler (the handlers are started already)."""
        for handler in self.handlers:
            self._workers.append(
                asyncio.create_task(self._work(handler), name=f"tgpilot-run-{handler.name}")
            )

    def seen(self, handler: str, chat_id: int) -> int:
        """The newest message id queued (or, before that, handled) for ``handler`` there."""
        queued = self._queued[handler].get(chat_id, 0)
        return max(queued, self._cursors.get(handler, chat_id) or 0)

    def dispatch(self, delivery: Delivery) -> int:
        """Queue ``delivery`` for every handler that wants it; returns how many."""
        update = delivery.update
        chat_id = update.chat.id
        queued = 0
        for handler in self.handlers:
            if update.kind == "new" and update.message.id <= self.seen(handler.name, chat_id):
                continue
            scope = handler.scope()
            if scope is not None and chat_id not in scope:
                continue
            try:
                wanted = handler.wants(update)
            except Exception as exc:
                self._failed(handler, delivery, exc)
                wanted = False
            if update.kind == "new":
                self._queued[handler.name][chat_id] = update.message.id
            if wanted:
                self._metrics.received.labels(handler.name).inc()
                queued += 1
            elif handler.manages_cursor or update.kind != "new":
                continue
            # unwanted new messages still pass through the queue: the cursor moves in order
            self._queues[handler.name].put_nowait((delivery, wanted))
        return queued

    async def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for every queue to empty; True if they did."""
        joins = [queue.join() for queue in self._queues.values()]
        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*joins)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        """Cancel the workers."""
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()

    async def _work(self, handler: MessageHandler) -> None:
        queue = self._queues[handler.name]
        while True:
            delivery, wanted = await queue.get()
            try:
                if wanted:
                    await self._run(handler, delivery)
                await self._move_cursor(handler, delivery)
            except Exception as exc:  # the cursor could not be written
                self._failed(handler, delivery, exc)
            finally:
                queue.task_done()

    async def _run(self, handler: MessageHandler, delivery: Delivery) -> None:
        name = handler.name
        started = self._clock.monotonic()
        self._metrics.inflight.labels(name).inc()
        try:
            await handler.handle(delivery)
        except Exception as exc:
            self._failed(handler, delivery, exc)
            self._metrics.total.labels(name, "failed").inc()
        else:
            self._metrics.handled.labels(name).inc()
            self._metrics.total.labels(name, "ok").inc()
        finally:
            self._metrics.inflight.labels(name).dec()
            self._metrics.duration.labels(name).observe(self._clock.monotonic() - started)

    async def _move_cursor(self, handler: MessageHandler, delivery: Delivery) -> None:
        update = delivery.update
        if update.kind == "new" and not handler.manages_cursor:
            await self._cursors.mark(handler.name, update.chat.id, update.message.id)

    def _failed(self, handler: MessageHandler, delivery: Delivery, exc: Exception) -> None:
        self.failures[handler.name] += 1
        self._metrics.failed.labels(handler.name).inc()
        update = delivery.update
        reason = exc.message if isinstance(exc, TgpilotError) else f"{type(exc).__name__}: {exc}"
        self._log(
            f"handler {handler.name} failed on {update.kind} message #{update.message.id} "
            f"in {update.chat.title} ({update.chat.id}): {reason}"
        )
