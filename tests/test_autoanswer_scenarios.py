"""Spec ai.md §6 scenarios 26–28 for the auto-responder, on the fake Telegram and LLM."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.llm.replies import Reply
from tests.fakes.llm.server import FakeLLMServer
from tests.harness import Cli
from tests.run_support import (
    ALICE,
    BOB,
    BOT,
    ME,
    SCENARIO_START,
    TEAM_ID,
    make_world,
    quiet,
    running_host,
    settings,
    settle,
    user_turns,
)


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


async def test_26_a_private_message_gets_one_request_and_a_reply(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    clock = FakeClock(SCENARIO_START)
    world = make_world()
    llm.script(Reply.stream(["Всё ", "хорошо, ", "спасибо!"]))
    async with running_host(world, tmp_path, llm, clock=clock) as run:
        asked = world.add_message(ALICE, text="Как дела?", date=clock.now())
        await settle(lambda: any(m.text == "Всё хорошо, спасибо!" for m in run.outgoing(ALICE)))
    requests = llm.requests_to("/chat/completions")
    assert len(requests) == 1
    body = requests[0].json
    assert body["messages"][0]["role"] == "system"
    assert "Owner" in body["messages"][0]["content"]
    assert body["messages"][-1] == {"role": "user", "content": "Как дела?"}
    assert sum(turn.count("Как дела?") for turn in user_turns(body)) == 1
    assert body["temperature"] == 0.7
    replies = run.outgoing(ALICE)
    assert len(replies) == 1
    assert replies[0].reply_to == asked.id
    [line] = [a for a in run.audit() if a["action"] == "telegram.autoanswer.reply"]
    assert line["result"] == "ok"
    assert line["params"]["chars"] == len("Всё хорошо, спасибо!")
    assert "хорошо" not in str(line)  # no message text in the audit


# ---------------------------------------------------------------- scenario 27: never asked


def requests(llm: FakeLLMServer) -> list[dict[str, object]]:
    return [r.json for r in llm.requests_to("/chat/completions")]


async def test_27_outgoing_blank_and_pre_start_messages_make_no_request(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    clock = FakeClock(SCENARIO_START)
    world = make_world()
    async with running_host(world, tmp_path, llm, clock=clock) as run:
        world.add_message(ALICE, text="   ", date=clock.now())
        world.add_message(ALICE, text="from before", date=clock.now() - timedelta(minutes=1))
        world.add_message(BOT, text="I am a bot", date=clock.now())
        await quiet()
        assert requests(llm) == []
        # the owner's own message (typed on another device) is never answered
        world.add_message(ALICE, text="I'll call you", sender=ME, date=clock.now())
        await quiet()
        assert requests(llm) == []
        assert any("pausing" in line for line in run.logs)
        world.add_message(ALICE, text="Жду звонка", date=clock.now())  # paused for 30 min
        await quiet()
        assert requests(llm) == []
        world.add_message(BOB, text="Привет!", date=clock.now())
        await settle(lambda: len(run.outgoing(BOB)) == 1)
    assert [user_turns(r)[-1] for r in requests(llm)] == ["Привет!"]


async def test_27_group_messages_need_a_mention_and_denied_users_are_ignored(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    clock = FakeClock(SCENARIO_START)
    world = make_world()
    answer = settings(private_only=False, deny=["@bob"])
    async with running_host(world, tmp_path, llm, clock=clock, answer=answer) as run:
        world.add_message(TEAM_ID, text="hello all", sender=ALICE, date=clock.now())
        world.add_message(BOB, text="hi there", date=clock.now())
        await quiet()
        assert requests(llm) == []
        world.add_message(TEAM_ID, text="@owner are you there?", sender=ALICE, date=clock.now())
        await settle(lambda: len(run.outgoing(TEAM_ID)) == 1)
    assert [user_turns(r)[-1] for r in requests(llm)] == ["@owner are you there?"]


async def test_27_cooldown_and_the_hourly_cap(tmp_path: Path, llm: FakeLLMServer) -> None:
    clock = FakeClock(SCENARIO_START)
    world = make_world()
    answer = settings(cooldown_s=60, per_chat_hourly=10)
    async with running_host(world, tmp_path, llm, clock=clock, answer=answer) as run:

        async def ask(text: str) -> None:
            world.add_message(ALICE, text=text, date=clock.now())
            await quiet(0.15)

        await ask("first")
        await settle(lambda: len(run.outgoing(ALICE)) == 1)
        clock.advance(30)
        await ask("inside the cooldown")
        assert len(requests(llm)) == 1
        for n in range(2, 12):
            clock.advance(61)
            await ask(f"message {n}")
            want = min(n, 10)  # the 11th is over the cap: no request for it
            await settle(lambda want=want: len(run.timings) >= want)
        await quiet()
    asked = [user_turns(r)[-1] for r in requests(llm)]
    assert asked == ["first", *(f"message {n}" for n in range(2, 11))]  # the 11th: capped
    assert any("per-chat hourly cap" in line for line in run.logs)
    assert any("cooldown" in line for line in run.logs)


async def test_27_outside_working_hours_at_most_one_away_text(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    clock = FakeClock(SCENARIO_START)  # a Sunday
    world = make_world()
    answer = settings(working_hours="mon-fri 09:00-20:00", away_text="Я сейчас не на связи.")
    async with running_host(world, tmp_path, llm, clock=clock, answer=answer) as run:
        world.add_message(ALICE, text="Ты тут?", date=clock.now())
        await settle(lambda: len(run.outgoing(ALICE)) == 1)
        clock.advance(120)
        world.add_message(ALICE, text="Ау?", date=clock.now())
        await quiet()
    assert requests(llm) == []
    [away] = run.outgoing(ALICE)
    assert away.text == "Я сейчас не на связи."
    assert [a["result"] for a in run.audit() if a["action"] == "telegram.autoanswer.away"] == ["ok"]


# ---------------------------------------------------------------- scenario 28: streaming


async def test_28_a_4s_stream_is_edited_at_most_ceil_4_over_1_5_plus_1_times(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    world = make_world()
    deltas = [f"слово{n} " for n in range(40)]
    llm.script(Reply.stream(deltas, delay=0.1))  # 4 s, a delta every 100 ms
    async with running_host(world, tmp_path, llm, answer=settings(edit_interval_s=1.5)) as run:
        world.add_message(ALICE, text="Расскажи что-нибудь", date=datetime.now(UTC))
        full = "".join(deltas).strip()
        await settle(lambda: any(m.text == full for m in run.outgoing(ALICE)), timeout=30)
    edits = world.requests["EditMessageRequest"]
    assert 2 <= edits <= math.ceil(4 / 1.5) + 1
    [reply] = run.outgoing(ALICE)
    assert reply.text == full
    assert world.typing and world.typing[0][0] == ALICE


async def test_28_draft_mode_sends_nothing_until_approved_then_run_sends_it(
    tgpilot_home: Path, llm: FakeLLMServer, fake_clock: FakeClock, make_cli: Callable[..., Cli]
) -> None:
    world = make_world(fake_clock.now())
    cli = make_cli(world)
    llm.script(Reply.of_text("Да, давай в 12."))
    answer = settings(mode="draft")
    async with running_host(
        world, tgpilot_home, llm, clock=fake_clock, answer=answer, drafts=True
    ) as run:
        asked = world.add_message(ALICE, text="Встретимся завтра?", date=fake_clock.now())
        await settle(lambda: any("Draft #1" in m.text for m in run.outgoing(ME)))
        await quiet()
        assert run.outgoing(ALICE) == []
        assert [chat for chat, _ in world.typing] == []
        approved = await asyncio.to_thread(cli, "autoanswer", "drafts", "approve", "1")
        assert approved.code == 0, approved.err
        assert "tgpilot run" in approved.err
        await settle(lambda: any(a["action"].endswith("draft_send") for a in run.audit()))
    [reply] = run.outgoing(ALICE)
    assert (reply.text, reply.reply_to) == ("Да, давай в 12.", asked.id)
    sends = [a for a in run.audit() if a["action"] == "telegram.autoanswer.draft_send"]
    assert [(a["result"], a["params"]["draft_id"]) for a in sends] == [("ok", 1)]
    assert "Да, давай" not in str(sends)


async def test_28_without_run_approve_sends_the_draft_itself_under_the_lock(
    tgpilot_home: Path, llm: FakeLLMServer, fake_clock: FakeClock, make_cli: Callable[..., Cli]
) -> None:
    world = make_world(fake_clock.now())
    cli = make_cli(world)
    llm.script(Reply.of_text("Сейчас посмотрю."))
    async with running_host(
        world, tgpilot_home, llm, clock=fake_clock, answer=settings(mode="draft")
    ) as run:
        world.add_message(ALICE, text="Глянешь документ?", date=fake_clock.now())
        await settle(lambda: any("Draft #1" in m.text for m in run.outgoing(ME)))
    listed = await asyncio.to_thread(cli, "autoanswer", "drafts", "list", "--json")
    assert [d["status"] for d in listed.json()] == ["pending"]
    approved = await asyncio.to_thread(
        cli, "autoanswer", "drafts", "approve", "1", "--text", "Да, сейчас гляну."
    )
    assert approved.code == 0, approved.err
    assert [m.text for m in run.outgoing(ALICE)] == ["Да, сейчас гляну."]
    again = await asyncio.to_thread(cli, "autoanswer", "drafts", "approve", "1")
    assert again.code == 2 and "sent" in again.err
    rejected = await asyncio.to_thread(cli, "autoanswer", "drafts", "reject", "1")
    assert rejected.code == 2


# ---------------------------------------------------------------- history and long answers


async def test_history_comes_from_the_store_and_replies_go_back_into_it(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    clock = FakeClock(SCENARIO_START)
    world = make_world()
    llm.script(Reply.of_text("Привет! Всё хорошо."), Reply.of_text("В пятницу."))
    async with running_host(world, tmp_path, llm, clock=clock, answer=settings(stream=False)):
        world.add_message(ALICE, text="Привет, как ты?", date=clock.now())
        await settle(lambda: len(requests(llm)) == 1)
        await settle(lambda: len([m for m in world.history(ALICE) if m.out]) == 1)
        clock.advance(30)
        world.add_message(ALICE, text="Когда встреча?", date=clock.now())
        await settle(lambda: len([m for m in world.history(ALICE) if m.out]) == 2)
    second = requests(llm)[1]
    turns = [(m["role"], m["content"]) for m in second["messages"][1:]]  # type: ignore[index]
    assert turns == [
        ("user", "Привет, как ты?"),
        ("assistant", "Привет! Всё хорошо."),
        ("user", "Когда встреча?"),
    ]
    assert world.requests["EditMessageRequest"] == 0  # stream: false sends the answer whole


async def test_an_answer_over_4096_characters_continues_in_a_second_reply(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    clock = FakeClock(SCENARIO_START)
    world = make_world()
    long = " ".join(["слово"] * 1200)  # 7,199 characters
    llm.script(Reply.stream([long[:3000], long[3000:]]))
    async with running_host(world, tmp_path, llm, clock=clock) as run:
        asked = world.add_message(ALICE, text="Расскажи подробно", date=clock.now())
        await settle(lambda: len(run.outgoing(ALICE)) == 2)
        await settle(lambda: any(a["result"] == "ok" for a in run.audit()))
    first, second = run.outgoing(ALICE)
    assert len(first.text) <= 4096 and len(second.text) <= 4096
    assert f"{first.text} {second.text}" == long
    assert first.reply_to == second.reply_to == asked.id
    assert run.audit()[0]["params"]["reply_ids"] == [first.id, second.id]
