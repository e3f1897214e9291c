"""Transcripts stored with the message (spec ai.md §4.11): the repository on SQLite,
MariaDB and PostgreSQL, and ``analyze --with-transcripts`` counting voice messages'
transcripts as texts (store and Desktop-export sources), default off."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.analyze_fixtures import ANNA, BORIS, at, message, single_chat, write_export
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli
from tgpilot.models import Message, Sender
from tgpilot.store import Store
from tgpilot.store.transcripts import TranscriptRepository, as_spoken, spoken_text

CHAT = -1001700000077
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
ALICE = Sender(11, "Alice")


def spoken_messages() -> list[Message]:
    return [
        Message(CHAT, 1, T0, "hello", ALICE),
        Message(CHAT, 2, T0 + timedelta(minutes=1), "", ALICE, media_type="voice"),
        Message(CHAT, 3, T0 + timedelta(minutes=2), "listen", ALICE, media_type="audio"),
        Message(CHAT, 4, T0 + timedelta(minutes=3), "", ALICE, media_type="round"),
        Message(CHAT, 5, T0 + timedelta(minutes=4), "", ALICE, media_type="photo"),
    ]


async def save(repository: TranscriptRepository, message_id: int, text: str, day: int) -> None:
    await repository.save(
        CHAT, message_id, text=text, provider="openai", model="whisper-1", language="en",
        now=T0 + timedelta(days=day),
    )  # fmt: skip


async def test_the_repository_keeps_one_transcript_per_message(store: Store) -> None:
    await store.upsert_messages(spoken_messages(), fetched_at=T0)
    repository = TranscriptRepository(store)
    assert [m.message_id for m in await repository.untranscribed(CHAT)] == [4, 3, 2]
    assert await repository.latest(CHAT) is None

    await save(repository, 2, "first take", day=1)
    await save(repository, 2, "второй дубль", day=2)  # replaced, not added
    await save(repository, 4, "round words", day=3)

    found = await repository.get_many(CHAT, [1, 2, 3, 4])
    assert {i: t.text for i, t in found.items()} == {2: "второй дубль", 4: "round words"}
    assert (found[2].provider, found[2].model, found[2].language) == ("openai", "whisper-1", "en")
    assert found[2].created_at == T0 + timedelta(days=2)
    assert await repository.of_chat(CHAT) == {2: "второй дубль", 4: "round words"}
    assert await repository.latest(CHAT) == T0 + timedelta(days=3)
    assert [m.message_id for m in await repository.untranscribed(CHAT)] == [3]
    assert await repository.untranscribed(CHAT, since=T0 + timedelta(minutes=5)) == []
    assert [i for i, _ in await repository.transcribed(CHAT)] == [2, 4]
    later = await repository.transcribed(CHAT, after=T0 + timedelta(days=2))
    assert later == [(4, T0 + timedelta(minutes=3))]
    upto = await repository.transcribed(CHAT, upto=T0 + timedelta(days=2))
    assert [i for i, _ in upto] == [2]


async def test_untranscribed_honours_limit_newest_first(store: Store) -> None:
    await store.upsert_messages(spoken_messages(), fetched_at=T0)
    repository = TranscriptRepository(store)
    [newest] = await repository.untranscribed(CHAT, limit=1)
    assert (newest.message_id, newest.media_type, newest.date) == (
        4,
        "round",
        T0 + timedelta(minutes=3),
    )


async def test_apply_reads_spoken_messages_as_their_transcripts(store: Store) -> None:
    await store.upsert_messages(spoken_messages(), fetched_at=T0)
    repository = TranscriptRepository(store)
    await save(repository, 2, "call me back", day=1)
    await save(repository, 3, "the chorus", day=1)
    await save(repository, 4, "   ", day=1)  # silence says nothing
    read = await repository.apply(CHAT, spoken_messages())
    assert [m.text for m in read] == [
        "hello",
        "[voice message] call me back",
        "listen\n[audio] the chorus",
        "",
        "",
    ]


def test_only_spoken_messages_take_a_transcript() -> None:
    photo = Message(CHAT, 5, T0, "", ALICE, media_type="photo")
    assert as_spoken(photo, "words") is photo
    voice = Message(CHAT, 2, T0, "", ALICE, media_type="voice")
    assert as_spoken(voice, None) is voice
    assert spoken_text("round", "", " hi ") == "[video message] hi"


# --------------------------------------------------------------------------- analyze


VOICE_CHAT_ID = 1_700_000_077


def voice_chat() -> dict[str, Any]:
    voice = {"media_type": "voice_message", "file": "voice_1.ogg", "mime_type": "audio/ogg",
             "duration_seconds": 4}  # fmt: skip
    return single_chat(
        [
            message(1, at(1, 9), ANNA, "Доброе утро, обсуждаем план на неделю"),
            message(2, at(1, 9, 5), BORIS, **voice),
            message(3, at(1, 9, 10), ANNA, "Спасибо, договорились обо всём"),
        ],
        name="voicechat",
        id=VOICE_CHAT_ID,
    )


@pytest.fixture
def offline(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(FakeTelegram(), logged_in=False)


def store_transcript(cli: Cli, text: str) -> None:
    async def write() -> None:
        async with await Store.open(f"sqlite:///{cli.home / 'tgpilot.db'}") as store:
            await TranscriptRepository(store).save(
                -1_000_000_000_000 - VOICE_CHAT_ID, 2, text=text, provider="openai",
                model="whisper-1", language="ru", now=T0,
            )  # fmt: skip

    asyncio.run(write())


def analysed(cli: Cli, tmp_path: Path, *args: str) -> dict[str, Any]:
    result = cli("analyze", "voicechat", "--provider", "local", "--days", "0",
                 "--out", str(tmp_path / "reports"), "--json", *args)  # fmt: skip
    assert result.code == 0, result.err
    [row] = result.json()["reports"]
    report = json.loads(Path(row["files"]["json"]).read_text(encoding="utf-8"))
    return dict(report["activity_metrics"])


def test_analyze_counts_transcripts_only_with_the_flag(offline: Cli, tmp_path: Path) -> None:
    export = write_export(tmp_path / "voicechat", voice_chat())
    assert offline("import", str(export)).code == 0
    store_transcript(offline, "Я подготовлю бюджет и отчёт к пятнице обязательно")

    plain = analysed(offline, tmp_path, "--source", "store")
    spoken = analysed(offline, tmp_path, "--source", "store", "--with-transcripts")
    from_export = analysed(offline, tmp_path, "--source", str(export), "--with-transcripts")

    assert plain["total_messages"] == 2  # the voice message has no text
    assert spoken["total_messages"] == 3
    assert spoken["average_length"] > plain["average_length"]
    assert from_export["total_messages"] == 3  # the export's messages take them too
    assert not (offline.home / "sessions" / "default.lock").exists()
