"""``tgpilot run``'s host: one dispatcher for every handler, failures isolated, no gaps or
repeats across disconnects and restarts, metrics and health on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.llm.replies import Reply
from tests.fakes.llm.server import FakeLLMServer
from tests.run_support import (
    ALICE,
    BOB,
    TEAM_ID,
    make_world,
    quiet,
    running_host,
    settings,
    settle,
    user_turns,
)
from tgpilot.core.clock import Clock
from tgpilot.gateways.telegram.account_feed import AccountUpdate
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.models import Chat
from tgpilot.services.runtime.cursors import CursorBook
from tgpilot.services.runtime.handler import Delivery, MessageHandler
from tgpilot.store import Store


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


def now() -> datetime:
    return datetime.now(UTC)


def asked(llm: FakeLLMServer) -> list[str]:
    return [user_turns(r.json)[-1] for r in llm.requests_to("/chat/completions")]


async def test_a_burst_of_three_within_the_debounce_window_is_one_request(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    world = make_world()
    async with running_host(world, tmp_path, llm, answer=settings(debounce_s=0.6)) as run:
        for text in ("Привет", "Есть минутка?", "Нужен совет"):
            world.add_message(ALICE, text=text, date=now())
            await asyncio.sleep(0.15)
        await settle(lambda: len(run.outgoing(ALICE)) == 1)
        await quiet(1.0)
    requests = llm.requests_to("/chat/completions")
    assert len(requests) == 1
    assert user_turns(requests[0].json)[-1] == "Привет\nЕсть минутка?\nНужен совет"
    everything = json.dumps(requests[0].json, ensure_ascii=False)
    for text in ("Привет", "Есть минутка?", "Нужен совет"):
        assert everything.count(text) == 1
    assert len(run.outgoing(ALICE)) == 1


async def test_a_disconnect_during_a_stream_ends_with_the_final_text_delivered_once(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    world = make_world()
    deltas = [f"часть{n} " for n in range(12)]
    llm.script(Reply.stream(deltas, delay=0.15))
    answer = settings(edit_interval_s=0.3)
    async with running_host(world, tmp_path, llm, answer=answer) as run:
        world.add_message(ALICE, text="Что нового?", date=now())
        await settle(lambda: world.requests["EditMessageRequest"] >= 1)
        assert world.drop_connections() == 1
        full = "".join(deltas).strip()
        await settle(lambda: any(m.text == full for m in run.outgoing(ALICE)), timeout=30)
        world.add_message(BOB, text="А ты где?", date=now())  # the feed came back too
        await settle(lambda: len(run.outgoing(BOB)) == 1)
    assert [m.text for m in run.outgoing(ALICE)] == [full]
    assert world.requests_qualified["messages.SendMessageRequest"] == 2  # one placeholder each
    assert asked(llm) == ["Что нового?", "А ты где?"]


async def test_messages_that_arrive_while_disconnected_are_answered_once_after_reconnecting(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    world = make_world()
    async with running_host(world, tmp_path, llm) as run:
        world.add_message(ALICE, text="до обрыва", date=now())
        await settle(lambda: len(run.outgoing(ALICE)) == 1)
        world.faults.fail("connect", times=2, error="NETWORK")  # the first retries fail
        world.drop_connections()
        world.add_message(BOB, text="пока тебя не было", date=now())
        await settle(lambda: len(run.outgoing(BOB)) == 1, timeout=30)
        await quiet(0.5)
    assert asked(llm) == ["до обрыва", "пока тебя не было"]
    assert any("reconnect" in line for line in run.logs)


async def test_a_restart_resumes_at_the_stored_cursor(tmp_path: Path, llm: FakeLLMServer) -> None:
    world = make_world()
    async with running_host(world, tmp_path, llm) as run:
        world.add_message(ALICE, text="первый", date=now())
        await settle(lambda: len(run.outgoing(ALICE)) == 1)
    world.add_message(ALICE, text="пока run стоял", date=now())
    async with running_host(world, tmp_path, llm) as run:
        await settle(lambda: len(run.outgoing(ALICE)) == 2)
        await quiet(0.5)
    assert asked(llm) == ["первый", "пока run стоял"]


@dataclass
class Recorder:
    """A handler that records what it gets, and fails on one text."""

    name: str
    fail_on: str | None = None
    seen: list[tuple[str, int]] = field(default_factory=list)
    manages_cursor: bool = False

    async def start(self, cursors: CursorBook) -> None:
        await cursors.load(self.name)

    def scope(self) -> Mapping[int, Chat] | None:
        return None

    def catch_up_since(self) -> datetime | None:
        return now()

    def wants(self, update: AccountUpdate) -> bool:
        return not update.message.is_outgoing

    async def handle(self, delivery: Delivery) -> None:
        text = delivery.update.message.text
        if text == self.fail_on:
            raise RuntimeError("boom")
        self.seen.append((delivery.update.kind, delivery.update.message.id))

    async def stop(self, timeout: float) -> None:
        return None


async def test_a_failing_handler_is_logged_and_counted_and_the_others_go_on(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    world = make_world()
    flaky, steady = Recorder("flaky", fail_on="второе"), Recorder("steady")

    async def extra(
        gateway: TelegramGateway, store: Store, clock: Clock, logs: list[str]
    ) -> list[MessageHandler]:
        return [flaky, steady]

    async with running_host(world, tmp_path, llm, extra=extra) as run:
        ids = []
        for text in ("первое", "второе", "третье"):
            ids.append(world.add_message(ALICE, text=text, date=now()).id)
            await asyncio.sleep(0.05)
        world.edit_message(ALICE, ids[0], "первое (исправлено)")
        await settle(lambda: len(steady.seen) == 4 and len(run.outgoing(ALICE)) >= 1)
        await quiet()
        metrics = run.host.metrics.exposition().decode()
        summary = await run.finish()
    assert steady.seen == [("new", ids[0]), ("new", ids[1]), ("new", ids[2]), ("edit", ids[0])]
    assert flaky.seen == [("new", ids[0]), ("new", ids[2]), ("edit", ids[0])]
    assert summary.failures == {"autoanswer": 0, "flaky": 1, "steady": 0}
    [line] = [x for x in run.logs if "failed" in x]
    assert "flaky" in line and f"#{ids[1]}" in line and "Alice" in line and "boom" in line
    assert 'tgpilot_run_events_failed_total{handler="flaky"} 1.0' in metrics
    assert 'tgpilot_run_events_handled_total{handler="steady"} 4.0' in metrics


async def test_metrics_and_healthz_are_served_on_loopback(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    world = make_world()
    async with running_host(world, tmp_path, llm, metrics_addr="127.0.0.1:0") as run:
        world.add_message(ALICE, text="привет", date=now())
        await settle(lambda: any(a["result"] == "ok" for a in run.audit()))
        port = run.host.port
        assert port is not None
        status, body = await http_get(port, "/healthz")
        assert status == 200
        assert json.loads(body)["connected"] is True
        status, body = await http_get(port, "/metrics")
        assert status == 200
        text = body.decode()
        assert 'tgpilot_autoanswer_replies_total{kind="reply"} 1.0' in text
        assert "tgpilot_command_duration_seconds_bucket" in text
        assert "tgpilot_autoanswer_request_overhead_seconds_count 1.0" in text
        assert (await http_get(port, "/nope"))[0] == 404


async def http_get(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def test_moderation_and_export_watches_are_hosted_beside_the_responder(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    from tgpilot.core.audit import AuditLog
    from tgpilot.core.config.settings import ModerationSettings
    from tgpilot.services.export.run import ExportOptions
    from tgpilot.services.moderation.verdict import Moderator
    from tgpilot.services.moderation.watch import ModerationWatch, WatchOptions
    from tgpilot.services.runtime.watches import (
        ExportTarget,
        ExportWatchHandler,
        ModerationHandler,
    )

    world = make_world()
    world.add_message(TEAM_ID, text="old", sender=ALICE, date=now())
    out = tmp_path / "team.jsonl"

    async def extra(
        gateway: TelegramGateway, store: Store, clock: Clock, logs: list[str]
    ) -> list[MessageHandler]:
        chat = await gateway.resolve_chat("team_chat")
        assert chat.id == TEAM_ID
        watch = ModerationWatch(
            gateway=gateway, chat=chat, moderator=Moderator.from_settings(ModerationSettings()),
            options=WatchOptions(warn=True), audit=AuditLog(tmp_path / "mod.jsonl", "default"),
            clock=clock, log=logs.append,
        )  # fmt: skip
        export = ExportWatchHandler(
            gateway, [ExportTarget(chat, out, ExportOptions(format="jsonl", out=out))],
            UTC, clock, logs.append,
        )  # fmt: skip
        return [ModerationHandler(gateway, [watch]), export]

    async with running_host(world, tmp_path, llm, extra=extra) as run:
        world.add_message(
            TEAM_ID, text="Регистрируйся на bybit, бонус до 1000 usdt", sender=BOB, date=now()
        )
        world.add_message(TEAM_ID, text="обычное сообщение", sender=ALICE, date=now())
        await settle(lambda: out.exists() and len(out.read_text().splitlines()) == 2)
        await settle(lambda: any("would warn Bob" in line for line in run.logs))
    lines = [json.loads(x)["text"] for x in out.read_text().splitlines()]
    assert lines == ["Регистрируйся на bybit, бонус до 1000 usdt", "обычное сообщение"]
    assert any("spam (score" in line and "Bob" in line for line in run.logs)
    assert llm.requests_to("/chat/completions") == []  # groups: private_only
