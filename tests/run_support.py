"""Running ``tgpilot run``'s host in-process on the fake Telegram and the fake LLM.

:func:`running_host` opens the session (updates on) beneath the real Telethon client,
a SQLite store, an LLM client pointed at :class:`~tests.fakes.llm.server.FakeLLMServer`,
builds the auto-responder (and any extra handlers) and serves the host in a task until
the block ends. Tests push messages with ``world.add_message`` and wait with
:func:`settle`.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from tests.fakes.clock import FakeClock
from tests.fakes.llm.server import FakeLLMServer
from tests.fakes.telegram import FakeTelegram, UserRec
from tests.harness import session_options
from tgpilot.core.audit import AuditLog
from tgpilot.core.clock import Clock, SystemClock
from tgpilot.core.config.settings import AutoanswerSettings
from tgpilot.gateways.llm.catalogue import load_catalogue
from tgpilot.gateways.llm.factory import create_llm_client
from tgpilot.gateways.llm.resolve import LLMTarget
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.gateways.telegram.session import open_session
from tgpilot.services.autoanswer.drafts import DraftCourier, DraftSender
from tgpilot.services.autoanswer.responder import AutoResponder, RequestTiming, ResponderSetup
from tgpilot.services.prompts import PromptLibrary
from tgpilot.services.runtime.cursors import CursorBook
from tgpilot.services.runtime.handler import BackgroundService, MessageHandler
from tgpilot.services.runtime.host import RunHost, RunSummary
from tgpilot.services.runtime.metrics import RunMetrics
from tgpilot.store import Store
from tgpilot.store.autoanswer import AutoanswerRepository
from tgpilot.store.run_state import RunStateRepository

SCENARIO_START = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
"""ai.md §6: "the clock is frozen at 2024-03-10 12:00 UTC" (a Sunday)."""
ME, ALICE, BOB, BOT = 1000, 1001, 1002, 1003
TEAM = 555
TEAM_ID = -1000000000555
ALWAYS = "mon-sun 00:00-24:00"


def make_world(now: datetime = SCENARIO_START) -> FakeTelegram:
    """The account ``Owner`` (@owner), Alice and Bob in private chats, a bot, and a
    supergroup ``Team`` with both."""
    world = FakeTelegram(now=now)
    world.add_me(ME, "Owner", username="owner", phone="+15550001000")
    world.add_user(ALICE, "Alice", username="alice", dialog=True)
    world.add_user(BOB, "Bob", username="bob", dialog=True)
    world.add_user(BOT, "Helper", username="helper_bot", bot=True, dialog=True)
    world.add_supergroup(TEAM, "Team", "team_chat", members=[ALICE, BOB])
    return world


def settings(**changes: Any) -> AutoanswerSettings:
    """Auto mode answering always, debounce and cooldown off, unless changed."""
    base: dict[str, Any] = {
        "mode": "auto",
        "working_hours": ALWAYS,
        "debounce_s": 0,
        "cooldown_s": 0,
        "edit_interval_s": 1.5,
    }
    return AutoanswerSettings.model_validate(base | changes)


def llm_target(server: FakeLLMServer) -> LLMTarget:
    return LLMTarget(
        command="autoanswer",
        provider="openai",
        model="gpt-4o-mini",
        base_url=server.openai_url,
        api_key=SecretStr("sk-test"),
        key_env="OPENAI_API_KEY",
        temperature=None,
        max_tokens=None,
        timeout_s=10,
        max_retries=2,
        requests_per_minute=100_000,
        cache=False,
    )


@dataclass
class HostRun:
    """A host serving in the background, and what tests look at."""

    world: FakeTelegram
    gateway: TelegramGateway
    store: Store
    host: RunHost
    responder: AutoResponder | None
    audit_path: Path
    stop: asyncio.Event
    task: asyncio.Task[RunSummary]
    logs: list[str] = field(default_factory=list)
    timings: list[RequestTiming] = field(default_factory=list)

    def audit(self) -> list[dict[str, Any]]:
        if not self.audit_path.exists():
            return []
        return [json.loads(line) for line in self.audit_path.read_text().splitlines()]

    def outgoing(self, chat: int) -> list[Any]:
        """The account's messages in ``chat`` in the fake world, oldest first."""
        return [m for m in reversed(self.world.history(chat)) if m.out]

    async def finish(self) -> RunSummary:
        self.stop.set()
        return await asyncio.wait_for(self.task, 60)


@asynccontextmanager
async def running_host(
    world: FakeTelegram,
    tmp_path: Path,
    llm: FakeLLMServer,
    *,
    clock: Clock | None = None,
    answer: AutoanswerSettings | None = None,
    extra: Callable[[TelegramGateway, Store, Clock, list[str]], Awaitable[Sequence[MessageHandler]]]
    | None = None,
    services: Sequence[BackgroundService] = (),
    metrics_addr: str | None = None,
    shutdown_timeout_s: float = 30.0,
    drafts: bool = False,
) -> AsyncIterator[HostRun]:
    """Serve a host with the auto-responder (unless ``answer`` is mode off)."""
    clock = clock or SystemClock()
    answer = answer or settings()
    options = session_options(
        world, tmp_path, clock if isinstance(clock, FakeClock) else None, receive_updates=True,
        command="tgpilot run",
    )  # fmt: skip
    if not isinstance(clock, FakeClock):
        options = replace(options, clock=clock, factory=world.client_factory(clock))
    audit_path = tmp_path / "audit.jsonl"
    audit = AuditLog(audit_path, "default")
    logs: list[str] = []
    timings: list[RequestTiming] = []
    store = await Store.open(f"sqlite:///{tmp_path / 'tgpilot.db'}", clock=clock)
    try:
        async with (
            open_session(options) as gateway,
            create_llm_client(llm_target(llm), load_catalogue(), clock=clock) as client,
        ):
            metrics = RunMetrics()
            responder = None
            handlers: list[MessageHandler] = []
            all_services: list[BackgroundService] = list(services)
            if answer.mode != "off":
                prompt = PromptLibrary(clock=clock).load("autoanswer")
                responder = AutoResponder(
                    ResponderSetup(
                        gateway=gateway, store=store, llm=client, prompt=prompt,
                        settings=answer, aliases={}, tz=UTC, audit=audit, clock=clock,
                        log=logs.append, metrics=metrics, observer=timings.append,
                    )
                )  # fmt: skip
                handlers.append(responder)
            if extra is not None:
                handlers.extend(await extra(gateway, store, clock, logs))
            if drafts:
                sender = DraftSender(
                    gateway, AutoanswerRepository(store), audit, clock, "tgpilot run", logs.append
                )
                all_services.append(DraftCourier(sender, poll_s=0.1))
            host = RunHost(
                gateway=gateway,
                cursors=CursorBook(RunStateRepository(store), clock),
                handlers=handlers,
                services=all_services,
                clock=clock,
                log=logs.append,
                metrics=metrics,
                metrics_addr=metrics_addr,
                shutdown_timeout_s=shutdown_timeout_s,
            )
            stop = asyncio.Event()
            task = asyncio.create_task(host.serve(stop))
            ready = asyncio.create_task(host.ready.wait())
            await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED, timeout=30)
            if task.done():
                task.result()
            assert host.ready.is_set(), "the host did not start"
            run = HostRun(
                world, gateway, store, host, responder, audit_path, stop, task, logs, timings
            )
            try:
                yield run
            finally:
                if not task.done():
                    stop.set()
                    await asyncio.wait_for(task, 60)
    finally:
        await store.close()


async def settle(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait (real time) until ``condition()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the host")
        await asyncio.sleep(0.01)


async def quiet(seconds: float = 0.3) -> None:
    """Let the host run a while (real time) to show that nothing more happens."""
    await asyncio.sleep(seconds)


def user_turns(request_json: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request_json["messages"] if m["role"] == "user"]


def incoming(world: FakeTelegram, chat: int | UserRec, text: str, at: datetime, **kw: Any) -> int:
    """Add an incoming message (pushed to the connected client); returns its id."""
    rec = world.add_message(chat, text=text, date=at, **kw)
    return rec.id


# ---------------------------------------------------------------- soak


@dataclass
class SoakResult:
    """What a soak run found (see :func:`soak`)."""

    messages: int
    chats: int
    eligible: int
    answered: int
    answered_twice: int
    ineligible_answered: int
    unanswered: int
    replies: int
    llm_requests: int
    handler_failures: int
    overheads: list[float]
    seconds: float

    @property
    def ok(self) -> bool:
        return (
            self.answered == self.eligible
            and self.answered_twice == 0
            and self.ineligible_answered == 0
            and self.handler_failures == 0
            and self.replies == self.llm_requests
        )

    def percentile(self, share: float) -> float:
        ordered = sorted(self.overheads)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


SOAK_USER_BASE = 20_000
SOAK_DENIED = 1_999
SOAK_GROUP = 777


async def soak(
    tmp_path: Path, llm: FakeLLMServer, *, messages: int, chats: int, seed: int = 7,
    gap_s: float = 0.002,
) -> SoakResult:  # fmt: skip
    """Push ``messages`` messages into ``chats`` private chats (plus a denied user, a bot
    and a group, whose messages must never be answered; and blank ones) and check that
    every eligible message is answered exactly once and nothing else is."""
    rng = random.Random(seed)
    world = make_world()
    users = [world.add_user(SOAK_USER_BASE + n, f"User {n}", dialog=True) for n in range(chats)]
    world.add_user(SOAK_DENIED, "Spammer", username="spammer", dialog=True)
    world.add_supergroup(SOAK_GROUP, "Soak Group", members=users[:3])
    group_id = -(1_000_000_000_000 + SOAK_GROUP)
    answer = settings(
        deny=["@spammer"], per_chat_hourly=1_000_000, global_hourly=1_000_000, max_age_s=600
    )
    eligible: set[tuple[int, int]] = set()
    ineligible: set[tuple[int, int]] = set()
    began = time.perf_counter()
    async with running_host(world, tmp_path, llm, answer=answer) as run:
        for n in range(messages):
            roll = rng.random()
            at = datetime.now(UTC)
            if roll < 0.80:
                chat = rng.choice(users).id
                rec = world.add_message(chat, text=f"вопрос {n}", date=at)
                eligible.add((chat, rec.id))
            elif roll < 0.85:
                chat = rng.choice(users).id
                rec = world.add_message(chat, text="   ", date=at)
            elif roll < 0.90:
                chat = SOAK_DENIED
                rec = world.add_message(chat, text=f"реклама {n}", date=at)
            elif roll < 0.95:
                chat = BOT
                rec = world.add_message(chat, text=f"бот {n}", date=at)
            else:
                chat = group_id
                sender = rng.choice(users[:3])
                rec = world.add_message(chat, text=f"в группе {n}", sender=sender, date=at)
            if roll >= 0.80:
                ineligible.add((chat, rec.id))
            if gap_s:
                await asyncio.sleep(gap_s)
        repository = AutoanswerRepository(run.store)

        async def answered() -> list[tuple[int, int]]:
            rows = await repository.replies_since(datetime(2000, 1, 1, tzinfo=UTC))
            return [(r.chat_id, i) for r in rows if r.state == "sent" for i in r.source_ids]

        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(60.0, messages * 0.1)
        while len(set(await answered())) < len(eligible) and loop.time() < deadline:
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)
        covered = await answered()
        rows = await repository.replies_since(datetime(2000, 1, 1, tzinfo=UTC))
        seconds = time.perf_counter() - began
        summary = await run.finish()
    counts = Counter(covered)
    return SoakResult(
        messages=messages,
        chats=chats,
        eligible=len(eligible),
        answered=len(set(covered) & eligible),
        answered_twice=sum(1 for c in counts.values() if c > 1),
        ineligible_answered=len(set(covered) & ineligible),
        unanswered=len(eligible - set(covered)),
        replies=len(rows),
        llm_requests=len(llm.requests_to("/chat/completions")),
        handler_failures=sum(summary.failures.values()),
        overheads=[t.overhead_s for t in run.timings],
        seconds=seconds,
    )
