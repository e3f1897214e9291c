"""The auto-responder: a ``tgpilot run`` handler that answers incoming messages (ai.md §4.8).

Event-driven, never polling. Each chat has a *lane* (a task, ended when idle) that
takes the chat's messages in order:

1. **Debounce.** Eligible messages (:class:`~.rules.Audience`) form a burst that ends
   ``debounce_s`` after its last message (at most ``4 × debounce_s`` after its first);
   the whole burst gets **one** request, its messages in it once.
2. **Limits.** A paused chat (the owner wrote there by hand within
   ``pause_after_manual_s``), the cooldown and the hourly caps (:mod:`.ledger`) drop
   the burst. Outside working hours only the away text is sent, at most once per chat
   per 12 hours.
3. **Intent.** The answer is recorded in the store *before* anything is sent, in the
   transaction that moves the responder's cursor past the burst.
4. **Request** (:mod:`.request`): system message, stored history, the new messages.
5. **auto**: typing, a placeholder reply, the stream edited in (:mod:`.streaming`), a
   final edit; on LLM failure the placeholder is deleted and nothing is sent.
   **draft**: the answer becomes a pending draft, noted in Saved Messages (:mod:`.drafts`).
6. **Audit**: every answer, sent or failed, gets an audit line (no message text).

Messages of answerable chats are written to the store as they pass, so the next
request has their history; a sent answer is stored with its final text.

**Voice** (:mod:`.voice`): with voice replies available, the spoken messages of a burst
are transcribed (transcripts stored) after the limits and before the intent; one that
fails is logged, counted in :attr:`AutoResponder.voice_failures` and left out — a burst
left empty is not answered (its cursor still moves, so it is never retried). Without a
transcriber the responder stays silent on voice and says so once at start.

**Crash safety.** A reply found ``intent``/``streaming`` at start (the process was
killed mid-answer) is finished in its chat's lane if it is younger than
``max_age_s``: its placeholder (recorded, or found as our reply to the same message)
is edited with a newly generated answer — the chat still sees one reply. Older ones
are abandoned: the placeholder is deleted. Either way no message is answered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from tgpilot.core.audit import AuditLog
from tgpilot.core.clock import Clock
from tgpilot.core.config.settings import AutoanswerSettings, ChatAlias
from tgpilot.core.config.working_hours import WorkingHours, parse_working_hours
from tgpilot.core.errors import ProviderError, TgpilotError
from tgpilot.gateways.llm.client import LLMClient
from tgpilot.gateways.llm.tokens import count_tokens
from tgpilot.gateways.llm.types import ChatMessage, PromptRef, TextDelta
from tgpilot.gateways.telegram.account_feed import AccountUpdate
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.models import Account, Chat, Message, Sender
from tgpilot.services.ai.budget import margin_for, max_output
from tgpilot.services.autoanswer.drafts import DRAFT_TTL, draft_notice
from tgpilot.services.autoanswer.ledger import KEEP, ReplyLedger
from tgpilot.services.autoanswer.request import build_request, history_turns
from tgpilot.services.autoanswer.rules import Audience
from tgpilot.services.autoanswer.streaming import PLACEHOLDER, StreamedReply, split_text
from tgpilot.services.autoanswer.voice import is_spoken
from tgpilot.services.prompts import Prompt
from tgpilot.services.runtime.cursors import CursorBook
from tgpilot.services.runtime.handler import Delivery
from tgpilot.services.runtime.metrics import RunMetrics
from tgpilot.services.transcription import MessageTranscriber
from tgpilot.store import Store
from tgpilot.store.autoanswer import AutoanswerRepository, CursorMove, ReplyKind, ReplyRecord
from tgpilot.store.run_state import RunStateRepository
from tgpilot.store.transcripts import TranscriptRepository

HANDLER = "autoanswer"
LANE_IDLE_S = 60.0
"""Real seconds after which a quiet chat's lane ends (a new message starts another)."""
BURST_CAP = 4
"""A burst closes at most ``BURST_CAP × debounce_s`` after its first message."""
REPLY_SEARCH = 50
"""Messages after the answered one searched for our reply when recovering."""


@dataclass(frozen=True)
class RequestTiming:
    """How long the responder itself took before an LLM request (for metrics and bench)."""

    chat_id: int
    messages: int
    overhead_s: float
    """From the moment the burst was ready (its debounce window over, the chat's lane
    free) to the request: handler overhead, LLM latency and debounce excluded."""


@dataclass
class _Burst:
    picked_at: float
    deliveries: list[Delivery] = field(default_factory=list)
    seen_max: int = 0
    first_at: float = 0.0
    deadline: float = 0.0


@dataclass
class _Lane:
    chat: Chat
    inbox: asyncio.Queue[Delivery | ReplyRecord] = field(default_factory=asyncio.Queue)
    carry: Delivery | ReplyRecord | None = None
    task: asyncio.Task[None] | None = None
    answering: bool = False


@dataclass
class ResponderSetup:
    """Everything the responder is built from."""

    gateway: TelegramGateway
    store: Store
    llm: LLMClient
    prompt: Prompt
    settings: AutoanswerSettings
    aliases: Mapping[str, ChatAlias]
    tz: tzinfo
    audit: AuditLog
    clock: Clock
    log: Callable[[str], None]
    metrics: RunMetrics
    command: str = "tgpilot run"
    observer: Callable[[RequestTiming], None] | None = None
    transcriber: MessageTranscriber | None = None
    """Voice replies (``autoanswer.voice``); None: the responder stays silent on voice."""
    voice_unavailable: str | None = None
    """Why there is no transcriber although ``voice`` is on (stated once at start)."""


class AutoResponder:
    """The ``autoanswer`` handler (see the module docstring)."""

    name = HANDLER
    manages_cursor = True

    def __init__(self, setup: ResponderSetup) -> None:
        self._s = setup
        self.settings = setup.settings
        self._gateway = setup.gateway
        self._clock = setup.clock
        self._replies = AutoanswerRepository(setup.store)
        self._run_state = RunStateRepository(setup.store)
        self._transcripts = TranscriptRepository(setup.store)
        self._transcriber = setup.transcriber if setup.settings.voice else None
        self._ledger = ReplyLedger(setup.settings)
        self._hours: WorkingHours | None = (
            parse_working_hours(setup.settings.working_hours)
            if setup.settings.working_hours
            else None
        )
        self._ref = PromptRef(
            name=setup.prompt.name,
            hash=setup.prompt.hash,
            temperature=setup.prompt.defaults.temperature,
            max_tokens=setup.prompt.defaults.max_tokens,
        )
        self._lanes: dict[int, _Lane] = {}
        self._pauses: dict[int, datetime] = {}
        self._own: set[tuple[int, int]] = set()
        """Messages earlier processes sent (this one's are in the gateway's ledger)."""
        self._cursors: CursorBook | None = None
        self._me: Account | None = None
        self._audience: Audience | None = None
        self._started: datetime = setup.clock.now()
        self._stopping = False
        self.failures = 0
        self.voice_failures = 0
        """Voice messages left unanswered because their transcription failed."""
        self.answered_ids: list[tuple[int, tuple[int, ...]]] = []
        """(chat, message ids) of every answer recorded by this process, in order."""

    # ----------------------------------------------------------------- handler

    async def start(self, cursors: CursorBook) -> None:
        self._cursors = cursors
        await cursors.load(HANDLER)
        self._me = await self._gateway.me()
        self._audience = Audience.from_settings(
            self.settings, self._s.aliases, self._me.id, voice=self._transcriber is not None
        )
        now = self._clock.now()
        self._started = await self._run_state.handler_start(HANDLER, now, self.settings.max_age_s)
        recent = await self._replies.replies_since(now - KEEP)
        self._ledger.load(recent)
        for record in recent:
            ids = (record.placeholder_id, *record.reply_ids)
            self._own.update((record.chat_id, i) for i in ids if i is not None)
        for draft in await self._replies.drafts(("sent",)):
            if draft.sent_at is not None and draft.sent_at >= now - KEEP:
                self._own.update((draft.chat_id, i) for i in draft.sent_ids)
        self._pauses = await self._replies.pauses(now)
        count_tokens("")  # load the tokenizer now, not in the first answer's path
        if self.settings.voice and self._transcriber is None:
            why = self._s.voice_unavailable or "no speech provider configured"
            self._s.log(f"autoanswer: voice replies unavailable ({why}); staying silent on voice")
        for record in await self._replies.unfinished_replies():
            try:
                chat = await self._gateway.resolve_chat(str(record.chat_id))
            except TgpilotError as exc:
                await self._abandon(record, None, f"chat not found: {exc.message}")
                continue
            self._lane(chat).inbox.put_nowait(record)

    def scope(self) -> None:
        return None

    def catch_up_since(self) -> datetime:
        oldest = max(self._started, self._clock.now() - timedelta(seconds=self.settings.max_age_s))
        return oldest.replace(microsecond=0)  # Telegram dates are whole seconds

    def wants(self, update: AccountUpdate) -> bool:
        return update.kind == "new"

    async def handle(self, delivery: Delivery) -> None:
        self._lane(delivery.update.chat).inbox.put_nowait(delivery)

    async def stop(self, timeout: float) -> None:
        """Let answers in flight finish (up to ``timeout``); drop bursts still waiting
        (their messages stay above the cursor: the next start takes them)."""
        self._stopping = True
        lanes = list(self._lanes.values())
        busy = [lane.task for lane in lanes if lane.task is not None and lane.answering]
        for lane in lanes:
            if lane.task is not None and not lane.answering:
                lane.task.cancel()
        if busy:
            await asyncio.wait(busy, timeout=timeout)
        for lane in lanes:
            if lane.task is not None and not lane.task.done():
                lane.task.cancel()
        tasks = [lane.task for lane in lanes if lane.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def heartbeat(self) -> None:
        """Note that the responder is alive (its start survives short restarts)."""
        await self._run_state.heartbeat([HANDLER], self._clock.now())

    # ----------------------------------------------------------------- lanes

    def _lane(self, chat: Chat) -> _Lane:
        lane = self._lanes.get(chat.id)
        if lane is None or lane.task is None or lane.task.done():
            fresh = _Lane(chat)
            if lane is not None:  # keep anything queued for an ended lane
                while not lane.inbox.empty():
                    fresh.inbox.put_nowait(lane.inbox.get_nowait())
            lane = fresh
            self._lanes[chat.id] = lane
            lane.task = asyncio.create_task(self._run_lane(lane), name=f"autoanswer-{chat.id}")
        return lane

    async def _next(self, lane: _Lane, timeout: float) -> Delivery | ReplyRecord | None:
        """The lane's next item within ``timeout`` seconds of the responder's clock."""
        if lane.carry is not None:
            item, lane.carry = lane.carry, None
            return item
        if not lane.inbox.empty():
            return lane.inbox.get_nowait()
        if timeout <= 0:
            return None
        getting = asyncio.ensure_future(lane.inbox.get())
        sleeping = asyncio.ensure_future(self._clock.sleep(timeout))
        try:
            await asyncio.wait({getting, sleeping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            if not getting.done():
                getting.cancel()
        if getting.done() and not getting.cancelled():
            return getting.result()
        return None

    async def _idle(self, lane: _Lane) -> Delivery | ReplyRecord | None:
        """The lane's next item, or None after ``LANE_IDLE_S`` real seconds of quiet
        (an operational limit, not the responder's time: it never moves a fake clock)."""
        if lane.carry is not None:
            item, lane.carry = lane.carry, None
            return item
        try:
            return await asyncio.wait_for(lane.inbox.get(), LANE_IDLE_S)
        except TimeoutError:
            return None

    async def _run_lane(self, lane: _Lane) -> None:
        while not self._stopping:
            first = await self._idle(lane)
            if first is None:
                return
            if isinstance(first, ReplyRecord):
                await self._guarded(lane, self._recover(lane.chat, first))
                continue
            burst = _Burst(picked_at=self._clock.monotonic())
            await self._take(lane, burst, first)
            while burst.deliveries:
                item = await self._next(lane, burst.deadline - self._clock.monotonic())
                if item is None:
                    break
                if isinstance(item, ReplyRecord) or item.received_at > burst.deadline:
                    lane.carry = item  # the start of what comes next
                    break
                await self._take(lane, burst, item)
            if burst.deliveries:
                await self._guarded(lane, self._answer(lane.chat, burst))
            elif burst.seen_max:
                await self._mark(lane.chat.id, burst.seen_max)

    async def _guarded(self, lane: _Lane, work: Coroutine[Any, Any, None]) -> None:
        """Run one answer; failures are logged and counted, never fatal."""
        lane.answering = True
        try:
            await work
        except asyncio.CancelledError as exc:
            task = asyncio.current_task()
            if task is None or task.cancelling():
                raise  # the lane itself is being stopped
            self._lane_failed(lane, exc)  # a request cancelled under us (disconnect)
        except Exception as exc:
            self._lane_failed(lane, exc)
        finally:
            lane.answering = False

    def _lane_failed(self, lane: _Lane, exc: BaseException) -> None:
        self.failures += 1
        self._s.metrics.failed.labels(HANDLER).inc()
        reason = exc.message if isinstance(exc, TgpilotError) else f"{type(exc).__name__}: {exc}"
        self._s.log(f"autoanswer failed in {lane.chat.title} ({lane.chat.id}): {reason}")

    async def _take(self, lane: _Lane, burst: _Burst, delivery: Delivery) -> None:
        """Add one message to the lane's state: a burst member, a manual reply, or
        nothing to do."""
        assert self._audience is not None
        update = delivery.update
        message, chat = update.message, update.chat
        burst.seen_max = max(burst.seen_max, message.id)
        stored = self._audience.chat_reason(chat, message) is None
        if message.is_outgoing:
            # Our own answers are stored with their final text when sent; storing the
            # update would put the placeholder back into the history.
            if not await self._is_own(chat.id, message.id):
                if stored:
                    await self._s.store.upsert_messages([message], fetched_at=self._clock.now())
                await self._pause(chat, message, burst)
            return
        if stored:
            await self._s.store.upsert_messages([message], fetched_at=self._clock.now())
        now = self._clock.now()
        if self._audience.reason(update, started=self._started, now=now) is not None:
            return
        if self._paused(chat.id, now):
            return
        if not burst.deliveries:
            burst.first_at = delivery.received_at
        burst.deliveries.append(delivery)
        debounce = self.settings.debounce_s
        burst.deadline = min(delivery.received_at + debounce, burst.first_at + debounce * BURST_CAP)

    async def _is_own(self, chat_id: int, message_id: int) -> bool:
        if (chat_id, message_id) in self._own:
            return True
        return await self._gateway.sent.is_ours(chat_id, message_id)

    async def _pause(self, chat: Chat, message: Message, burst: _Burst) -> None:
        """The owner wrote ``message`` by hand: silence the chat from then on."""
        now = self._clock.now()
        until = message.date + timedelta(seconds=self.settings.pause_after_manual_s)
        current = self._pauses.get(chat.id)
        if until <= now or (current is not None and until <= current):
            return
        self._pauses[chat.id] = until
        await self._replies.pause(chat.id, until, now)
        if burst.deliveries:
            burst.deliveries.clear()  # the owner answered them
        self._s.log(f"autoanswer: the owner wrote in {chat.title}; pausing it until {until:%H:%M}")

    def _paused(self, chat_id: int, now: datetime) -> bool:
        until = self._pauses.get(chat_id)
        return until is not None and now < until

    async def _mark(self, chat_id: int, last_id: int) -> None:
        assert self._cursors is not None
        await self._cursors.mark(HANDLER, chat_id, last_id)

    # ----------------------------------------------------------------- answering

    async def _answer(self, chat: Chat, burst: _Burst) -> None:
        now = self._clock.now()
        ready_at = max(burst.deadline, burst.picked_at)
        messages = [d.update.message for d in burst.deliveries]
        source_ids = [m.id for m in messages]
        cursor = CursorMove(HANDLER, chat.id, burst.seen_max)
        blocked = "paused" if self._paused(chat.id, now) else self._ledger.blocked(chat.id, now)
        if blocked is not None:
            self._s.log(f"autoanswer: not answering {chat.title} ({blocked})")
            await self._mark(chat.id, burst.seen_max)
            return
        if self._hours is not None and not self._hours.contains(now, self._s.tz):
            if self.settings.away_text and self._ledger.away_due(chat.id, now):
                reply_id = await self._record(chat, "away", source_ids, cursor)
                await self._send_away(chat, reply_id, source_ids)
            else:
                await self._mark(chat.id, burst.seen_max)
            return
        if self._transcriber is not None and any(is_spoken(m) for m in messages):
            messages = await self._hear(chat, messages)
            if not messages:
                await self._mark(chat.id, burst.seen_max)
                return
            source_ids = [m.id for m in messages]
        kind: ReplyKind = "draft" if self.settings.mode == "draft" else "reply"
        reply_id = await self._record(chat, kind, source_ids, cursor)
        request = await self._request(chat, messages)
        if kind == "draft":
            await self._draft(chat, reply_id, request, source_ids, ready_at)
        else:
            await self._reply(chat, reply_id, request, source_ids, ready_at, None)

    async def _hear(self, chat: Chat, messages: Sequence[Message]) -> list[Message]:
        """The burst without the spoken messages that could not be transcribed (each
        transcribed and stored unless a transcript is stored already)."""
        assert self._transcriber is not None
        spoken = [m.id for m in messages if is_spoken(m)]
        known = await self._transcripts.get_many(chat.id, spoken)
        kept: list[Message] = []
        for message in messages:
            if not is_spoken(message):
                kept.append(message)
                continue
            stored = known.get(message.id)
            text = stored.text if stored is not None else await self._transcribe(chat, message)
            if text is not None and text.strip():
                kept.append(message)
            elif text is not None:
                self._s.log(f"autoanswer: voice message {message.id} in {chat.title} is silent")
        return kept

    async def _transcribe(self, chat: Chat, message: Message) -> str | None:
        """The message's transcript, or None (logged and counted) when it failed."""
        assert self._transcriber is not None
        try:
            return (await self._transcriber.transcribe(message)).text
        except (TgpilotError, OSError) as exc:
            self.voice_failures += 1
            self._s.metrics.failed.labels(HANDLER).inc()
            reason = exc.message if isinstance(exc, TgpilotError) else type(exc).__name__
            self._s.log(
                f"autoanswer: voice message {message.id} in {chat.title} left unanswered: "
                f"transcription failed: {reason}"
            )
            return None

    async def _record(
        self, chat: Chat, kind: ReplyKind, source_ids: Sequence[int], cursor: CursorMove
    ) -> int:
        """The intent, with the cursor moved past the burst (one transaction)."""
        assert self._cursors is not None
        now = self._clock.now()
        reply_id = await self._replies.start_reply(
            chat.id, kind, source_ids, source_ids[-1], now, cursor=cursor
        )
        self._cursors.remember(HANDLER, chat.id, cursor.last_id)
        self._ledger.add(reply_id, chat.id, kind, now)
        self.answered_ids.append((chat.id, tuple(source_ids)))
        return reply_id

    async def _request(self, chat: Chat, burst: Sequence[Message]) -> list[ChatMessage]:
        assert self._me is not None
        turns = self.settings.history_turns
        stored: list[Message] = []
        if turns:
            limit = turns + len(burst) + 10
            stored = [m async for m in self._s.store.iter_messages(chat.id, limit=limit)]
        if self._transcriber is not None:
            stored = await self._transcripts.apply(chat.id, stored)
            burst = await self._transcripts.apply(chat.id, burst)
        system = self._s.prompt.render_system(owner=self._me.name, chat_name=chat.title)
        model = self._s.llm.model
        budget = (
            model.window
            - max_output(self._s.llm, self._s.prompt)
            - count_tokens(system)
            - margin_for(model.window)
        )
        return build_request(
            system,
            history_turns(stored, burst, turns),
            burst,
            budget=max(budget, 0),
            count_tokens=count_tokens,
        )

    def _observe(self, chat: Chat, count: int, ready_at: float) -> None:
        overhead = max(0.0, self._clock.monotonic() - ready_at)
        self._s.metrics.overhead.observe(overhead)
        if self._s.observer is not None:
            self._s.observer(RequestTiming(chat.id, count, overhead))

    async def _deltas(self, request: list[ChatMessage]) -> AsyncIterator[str]:
        async for event in self._s.llm.stream(request, prompt=self._ref):
            if isinstance(event, TextDelta):
                yield event.text

    async def _reply(
        self,
        chat: Chat,
        reply_id: int,
        request: list[ChatMessage],
        source_ids: Sequence[int],
        ready_at: float,
        placeholder_id: int | None,
    ) -> None:
        reply_to = source_ids[-1]
        params: dict[str, object] = {"reply_id": reply_id, "source_ids": list(source_ids)}
        with contextlib.suppress(TgpilotError):
            await self._gateway.show_typing(chat)
        try:
            if self.settings.stream:
                text, ids, edits = await self._streamed(
                    chat, reply_id, request, reply_to, ready_at, placeholder_id
                )
                params["edits"] = edits
            else:
                self._observe(chat, len(source_ids), ready_at)
                text = (await self._s.llm.complete(request, prompt=self._ref)).text
                ids = await self._send_pieces(chat, text, reply_to)
        except _LLMFailed as failed:
            await self._failed(chat, reply_id, params, failed.reason, forget=True)
            return
        except ProviderError as exc:
            await self._failed(chat, reply_id, params, exc.message, forget=True)
            return
        except TgpilotError as exc:
            await self._failed(chat, reply_id, params, exc.message, forget=False)
            return
        await self._replies.update_reply(
            reply_id, self._clock.now(), state="sent", reply_ids=ids, chars=len(text)
        )
        await self._store_sent(chat, ids, text, reply_to)
        params.update(reply_ids=ids, chars=len(text), streamed=self.settings.stream)
        self._audit("telegram.autoanswer.reply", chat, reply_to, params, "ok", None)
        self._s.metrics.replies.labels("reply").inc()

    async def _streamed(
        self,
        chat: Chat,
        reply_id: int,
        request: list[ChatMessage],
        reply_to: int,
        ready_at: float,
        placeholder_id: int | None,
    ) -> tuple[str, list[int], int]:
        if placeholder_id is None:
            placeholder = await self._gateway.send_message(
                chat, PLACEHOLDER, reply_to=reply_to, link_preview=False
            )
            placeholder_id = placeholder.id
        await self._replies.update_reply(
            reply_id, self._clock.now(), state="streaming", placeholder_id=placeholder_id
        )
        streamer = StreamedReply(
            self._gateway, chat, placeholder_id, self._clock, self.settings.edit_interval_s
        )
        self._observe(chat, len(request), ready_at)
        try:
            await streamer.follow(self._deltas(request))
        except ProviderError as exc:
            with contextlib.suppress(TgpilotError):
                await self._gateway.delete_messages(chat, [placeholder_id])
            raise _LLMFailed(exc.message) from exc
        ids = await streamer.finish(reply_to)
        return streamer.text, ids, streamer.edits

    async def _send_pieces(self, chat: Chat, text: str, reply_to: int) -> list[int]:
        ids = []
        for piece in split_text(text):
            sent = await self._gateway.send_message(
                chat, piece, reply_to=reply_to, link_preview=False
            )
            ids.append(sent.id)
        return ids

    async def _send_away(self, chat: Chat, reply_id: int, source_ids: Sequence[int]) -> None:
        text = self.settings.away_text or ""
        reply_to = source_ids[-1]
        params: dict[str, object] = {"reply_id": reply_id, "source_ids": list(source_ids)}
        try:
            ids = await self._send_pieces(chat, text, reply_to)
        except TgpilotError as exc:
            await self._failed(chat, reply_id, params, exc.message, forget=False, kind="away")
            return
        await self._replies.update_reply(
            reply_id, self._clock.now(), state="sent", reply_ids=ids, chars=len(text)
        )
        params.update(reply_ids=ids, chars=len(text))
        self._audit("telegram.autoanswer.away", chat, reply_to, params, "ok", None)
        self._s.metrics.replies.labels("away").inc()

    async def _draft(
        self,
        chat: Chat,
        reply_id: int,
        request: list[ChatMessage],
        source_ids: Sequence[int],
        ready_at: float,
    ) -> None:
        reply_to = source_ids[-1]
        params: dict[str, object] = {"reply_id": reply_id, "source_ids": list(source_ids)}
        self._observe(chat, len(source_ids), ready_at)
        try:
            text = (await self._s.llm.complete(request, prompt=self._ref)).text
        except ProviderError as exc:
            await self._failed(chat, reply_id, params, exc.message, forget=True, kind="draft")
            return
        now = self._clock.now()
        draft_id = await self._replies.add_draft(
            chat_id=chat.id,
            chat_title=chat.title,
            reply_to_id=reply_to,
            source_ids=source_ids,
            text=text,
            now=now,
            expires_at=now + DRAFT_TTL,
        )
        try:
            note = await self._gateway.note_to_self(
                draft_notice(self.settings.draft_notice, draft_id, chat.title, text)
            )
            await self._replies.set_draft_notice(draft_id, note.id)
        except TgpilotError as exc:
            self._s.log(f"autoanswer: draft {draft_id} stored, but the note failed: {exc.message}")
        await self._replies.update_reply(
            reply_id, self._clock.now(), state="drafted", chars=len(text)
        )
        params.update(draft_id=draft_id, chars=len(text))
        self._audit("telegram.autoanswer.draft", chat, reply_to, params, "ok", None)
        self._s.metrics.replies.labels("draft").inc()
        self._s.log(f"autoanswer: draft {draft_id} for {chat.title} awaits approval")

    async def _failed(
        self,
        chat: Chat,
        reply_id: int,
        params: dict[str, object],
        reason: str,
        *,
        forget: bool,
        kind: ReplyKind = "reply",
    ) -> None:
        await self._replies.update_reply(reply_id, self._clock.now(), state="failed", error=reason)
        if forget:
            self._ledger.forget(reply_id)
        source_ids = params.get("source_ids")
        reply_to = source_ids[-1] if isinstance(source_ids, list) and source_ids else None
        self._audit(f"telegram.autoanswer.{kind}", chat, reply_to, params, "failed", reason)
        self._s.log(f"autoanswer: no {kind} sent in {chat.title}: {reason}")

    async def _store_sent(self, chat: Chat, ids: Sequence[int], text: str, reply_to: int) -> None:
        """Keep the answer in the store as it reads now (for the next request's history)."""
        assert self._me is not None
        now = self._clock.now()
        me = Sender(self._me.id, self._me.name, self._me.username)
        stored = [
            Message(chat.id, message_id, now, piece, me, reply_to_id=reply_to, is_outgoing=True)
            for message_id, piece in zip(ids, split_text(text), strict=False)
        ]
        await self._s.store.upsert_messages(stored, fetched_at=now)

    def _audit(
        self,
        action: str,
        chat: Chat,
        message_id: int | None,
        params: dict[str, object],
        result: str,
        error: str | None,
    ) -> None:
        self._s.audit.record(
            ts=self._clock.now(),
            command=self._s.command,
            action=action,
            chat_id=chat.id,
            message_id=message_id,
            params={"mode": self.settings.mode, **params},
            result=result,
            error=error,
        )

    # ----------------------------------------------------------------- recovery

    async def _recover(self, chat: Chat, record: ReplyRecord) -> None:
        """Finish (or abandon) an answer a killed process left in flight."""
        now = self._clock.now()
        found = record.placeholder_id or await self._find_reply(chat, record.reply_to_id)
        if now - record.created_at > timedelta(seconds=self.settings.max_age_s):
            await self._abandon(record, chat if found else None, "too old to finish", found)
            return
        if record.kind == "away":
            if found is None:
                await self._send_away(chat, record.id, record.source_ids)
            else:
                await self._replies.update_reply(record.id, now, state="sent", reply_ids=[found])
            return
        sources = [
            m for m in await self._gateway.get_messages(chat, record.source_ids) if m is not None
        ]
        if not sources:
            await self._abandon(record, chat if found else None, "messages deleted", found)
            return
        request = await self._request(chat, sources)
        self._s.log(f"autoanswer: finishing an interrupted {record.kind} in {chat.title}")
        ready_at = self._clock.monotonic()
        if record.kind == "draft":
            await self._draft(chat, record.id, request, record.source_ids, ready_at)
        else:
            await self._reply(chat, record.id, request, record.source_ids, ready_at, found)

    async def _find_reply(self, chat: Chat, reply_to_id: int) -> int | None:
        """Our message replying to ``reply_to_id`` (a placeholder sent before a crash)."""
        async for message in self._gateway.history(chat, min_id=reply_to_id, limit=REPLY_SEARCH):
            if message.is_outgoing and message.reply_to_id == reply_to_id:
                return message.id
        return None

    async def _abandon(
        self, record: ReplyRecord, chat: Chat | None, reason: str, placeholder: int | None = None
    ) -> None:
        if chat is not None and placeholder is not None and record.kind == "reply":
            with contextlib.suppress(TgpilotError):
                await self._gateway.delete_messages(chat, [placeholder])
        await self._replies.update_reply(
            record.id, self._clock.now(), state="abandoned", error=reason
        )
        self._ledger.forget(record.id)
        self._s.audit.record(
            ts=self._clock.now(),
            command=self._s.command,
            action=f"telegram.autoanswer.{record.kind}",
            chat_id=record.chat_id,
            message_id=record.reply_to_id,
            params={"reply_id": record.id, "source_ids": list(record.source_ids)},
            result="skipped",
            error=f"interrupted answer abandoned: {reason}",
        )


@dataclass
class ResponderHeartbeat:
    """``tgpilot run``'s service noting that the responder is alive, every ``every_s``."""

    responder: AutoResponder
    every_s: float = 30.0
    name: str = "heartbeat"

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            await self.responder.heartbeat()


class _LLMFailed(Exception):
    """The model failed (the placeholder, if any, is already deleted)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
