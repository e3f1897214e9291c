"""``--with-transcripts`` on the AI commands beyond ``analyze`` (spec ai.md §4.11):
``digest``, ``crm extract``, ``hunt``, ``ideas``, ``tasks`` and ``contacts analyze``
read a voice message by its stored transcript only with the flag (default off) — on
the archive, offline (``--provider local``), with the clock frozen at 2024-03-10 12:00
UTC — and ``hunt`` on the live account (the fake Telegram) still reads profile texts
when its messages come with transcripts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.analyze_fixtures import (
    FROZEN_NOW,
    account_export,
    message,
    single_chat,
    write_export,
)
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram, voice
from tests.harness import Cli
from tgpilot.store import Store
from tgpilot.store.transcripts import TranscriptRepository

ME = ("Me", "user5000")  # the account of account_export()
ALICE = ("Alice", "user301")
ALICE_CHAT = 301
MARK = "kvazar"
"""A word only the transcript holds."""
SAID = (
    f"Предлагаю запустить {MARK}-бот для заявок. Отправь отчёт на {MARK}@example.com, "
    f"план лежит тут https://example.com/{MARK}"
)
"""The transcript: an idea, an imperative, an e-mail, a link and a keyword at once."""
LOCAL = ("--provider", "local")
VOICE = {"media_type": "voice_message", "file": "voice_2.ogg", "mime_type": "audio/ogg",
         "duration_seconds": 9}  # fmt: skip


@dataclass(frozen=True)
class Case:
    """One command: its arguments (offline; hunt has no model), and the texts of its
    JSON report the transcript reaches when it is read."""

    args: tuple[str, ...]
    seen: Callable[[dict[str, Any]], list[str]]


def texts(items: list[dict[str, Any]], key: str) -> list[str]:
    return [str(item[key]) for item in items]


CASES = {
    "digest": Case(("digest", "Alice", *LOCAL), lambda d: list(d["links"] or [])),
    "crm": Case(("crm", "extract", "Alice", *LOCAL), lambda d: texts(d["contacts"], "email")),
    "hunt": Case(
        ("hunt", "--chats", "Alice", "-k", MARK),
        lambda d: [s["text"] for u in d["users"] for s in u["samples"]],
    ),
    "ideas": Case(
        ("ideas", "--chats", "Alice", *LOCAL),
        lambda d: [q for c in d["chats"] for q in texts(c["ideas"], "quote")],
    ),
    "tasks": Case(
        ("tasks", "--chats", "Alice", *LOCAL),
        lambda d: [q for t in d["tasks"] for q in texts(t["newest"], "quote")],
    ),
    "contacts": Case(
        ("contacts", "analyze", *LOCAL),
        lambda d: [str(line) for c in d["contacts"] for line in c["recent"]],
    ),
}


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(FROZEN_NOW)


@pytest.fixture
def offline(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(FakeTelegram(), logged_in=False)


def store_transcript(cli: Cli, chat_id: int) -> None:
    """Store :data:`SAID` as the transcript of message 2 of ``chat_id``."""

    async def write() -> None:
        async with await Store.open(f"sqlite:///{cli.home / 'tgpilot.db'}") as store:
            await TranscriptRepository(store).save(
                chat_id, 2, text=SAID, provider="openai", model="whisper-1", language="ru",
                now=FROZEN_NOW,
            )  # fmt: skip

    asyncio.run(write())


@pytest.mark.parametrize("command", CASES)
def test_commands_read_transcripts_only_with_the_flag(
    offline: Cli, tmp_path: Path, command: str
) -> None:
    case = CASES[command]
    chat = single_chat(
        [
            message(1, FROZEN_NOW - timedelta(hours=3), ALICE, "Привет! Как у тебя дела?"),
            message(2, FROZEN_NOW - timedelta(hours=2), ALICE, **VOICE),
            message(3, FROZEN_NOW - timedelta(hours=1), ME, "Хорошо, послушаю вечером"),
        ],
        name="Alice",
        id=ALICE_CHAT,
        type="personal_chat",
    )
    export = write_export(tmp_path / "export", account_export([chat]))
    assert offline("import", str(export)).code == 0
    store_transcript(offline, ALICE_CHAT)
    common = ("--source", "store", "--json")

    plain = offline(*case.args, *common)
    spoken = offline(*case.args, *common, "--with-transcripts")

    assert plain.code == 0, plain.err
    assert spoken.code == 0, spoken.err
    assert MARK not in plain.out
    assert any(MARK in text for text in case.seen(spoken.json())), spoken.out


def test_hunt_keeps_live_bios_when_reading_transcripts(make_cli: Callable[..., Cli]) -> None:
    world = FakeTelegram(now=FROZEN_NOW)
    world.add_me(1000, "Me")
    ivan = world.add_user(201, "Ivan", about="Курьер по городу")
    group = world.add_supergroup(1_700_000_201, "Leads", members=[ivan])
    world.add_message(group, 1, text="Всем привет", date=FROZEN_NOW - timedelta(hours=3),
                      sender=ivan)  # fmt: skip
    world.add_message(group, 2, media=voice(), date=FROZEN_NOW - timedelta(hours=2), sender=ivan)
    cli = make_cli(world)
    store_transcript(cli, -1_001_700_000_201)
    args = ("hunt", "--chats", "-1001700000201", "-k", MARK, "--bio-keywords", "курьер")

    plain = cli(*args, "--json")
    spoken = cli(*args, "--with-transcripts", "--json")

    assert plain.code == 0, plain.err
    assert plain.json()["users"] == []
    assert spoken.code == 0, spoken.err
    [user] = spoken.json()["users"]
    assert user["samples"][0]["text"] == f"[voice message] {SAID}"
    assert user["bio_keywords"] == ["курьер"]  # the live account still answers
    assert spoken.json()["bio_keywords_used"] is True
