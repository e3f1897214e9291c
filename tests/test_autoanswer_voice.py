"""The auto-responder and voice messages (``autoanswer.voice``, spec ai.md §4.8, §4.11)
on the fake Telegram and the fake LLM server, which also serves
``/audio/transcriptions``: with voice on and speech configured a voice message is
downloaded, transcribed, stored and answered as its transcript (history shows it as a
voice message's transcript too); off, or without a provider, the responder stays silent
on voice and says once why; a failed transcription is logged, counted and never reaches
the chat, and the message is not answered later either."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tests.fakes.clock import FakeClock
from tests.fakes.llm.replies import Reply
from tests.fakes.llm.server import FakeLLMServer
from tests.fakes.telegram import FakeTelegram, voice
from tests.run_support import (
    ALICE,
    SCENARIO_START,
    HostRun,
    llm_target,
    make_world,
    quiet,
    running_host,
    settings,
    settle,
)
from tgpilot.core.audit import AuditLog
from tgpilot.core.clock import Clock
from tgpilot.core.config import ConfigOptions, load_config
from tgpilot.core.config.settings import AutoanswerSettings
from tgpilot.gateways.llm.catalogue import load_catalogue
from tgpilot.gateways.llm.factory import create_llm_client
from tgpilot.gateways.llm.speech import SpeechClient, SpeechTarget
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.services.autoanswer.responder import AutoResponder, ResponderSetup
from tgpilot.services.autoanswer.voice import voice_transcriber
from tgpilot.services.prompts import PromptLibrary
from tgpilot.services.runtime.handler import MessageHandler
from tgpilot.services.runtime.metrics import RunMetrics
from tgpilot.services.transcription import MessageTranscriber
from tgpilot.store import Store
from tgpilot.store.transcripts import TranscriptRepository

VOICE_SIZE = 20_000
Build = Callable[[TelegramGateway, Store, Clock, list[str]], Awaitable[Sequence[MessageHandler]]]


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


def speech_target(server: FakeLLMServer, max_bytes: int = 25 * 1024 * 1024) -> SpeechTarget:
    return SpeechTarget(
        provider="openai", model="whisper-1", tts_model="tts-1", base_url=server.openai_url,
        tts_url=server.openai_url, api_key=SecretStr("sk-test"), key_env="OPENAI_API_KEY",
        folder_id=None, iam_token=None, timeout_s=10, max_retries=1, max_upload_bytes=max_bytes,
    )  # fmt: skip


@asynccontextmanager
async def voice_host(
    world: FakeTelegram,
    tmp_path: Path,
    llm: FakeLLMServer,
    clock: FakeClock,
    answer: AutoanswerSettings,
    *,
    speech: bool = True,
    unavailable: str | None = None,
) -> AsyncIterator[tuple[HostRun, AutoResponder]]:
    """The host with a responder that has (``speech``) or lacks a transcriber."""
    built: list[AutoResponder] = []
    async with AsyncExitStack() as stack:

        async def build(
            gateway: TelegramGateway, store: Store, clock: Clock, logs: list[str]
        ) -> Sequence[MessageHandler]:
            client = await stack.enter_async_context(
                create_llm_client(llm_target(llm), load_catalogue(), clock=clock)
            )
            transcriber = None
            if speech:
                transcriber = MessageTranscriber(
                    gateway,
                    SpeechClient(speech_target(llm), clock=clock),
                    max_bytes=25 * 1024 * 1024,
                    clock=clock,
                    transcripts=TranscriptRepository(store),
                )
            responder = AutoResponder(
                ResponderSetup(
                    gateway=gateway, store=store, llm=client,
                    prompt=PromptLibrary(clock=clock).load("autoanswer"), settings=answer,
                    aliases={}, tz=UTC, audit=AuditLog(tmp_path / "audit.jsonl", "default"),
                    clock=clock, log=logs.append, metrics=RunMetrics(),
                    transcriber=transcriber, voice_unavailable=unavailable,
                )
            )  # fmt: skip
            built.append(responder)
            return [responder]

        async with running_host(
            world, tmp_path, llm, clock=clock, answer=settings(mode="off"), extra=build
        ) as run:
            yield run, built[0]


def chat_requests(llm: FakeLLMServer) -> list[dict[str, Any]]:
    return [r.json for r in llm.requests_to("/chat/completions")]


async def stored_transcripts(run: HostRun, chat_id: int, ids: list[int]) -> dict[int, str]:
    found = await TranscriptRepository(run.store).get_many(chat_id, ids)
    return {i: t.text for i, t in found.items()}


async def test_a_voice_message_is_transcribed_stored_and_answered(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    clock = FakeClock(SCENARIO_START)
    world = make_world()
    llm.script(Reply.of_text("когда встреча?"), Reply.stream(["В ", "пятницу."]))
    async with voice_host(world, tmp_path, llm, clock, settings(voice=True)) as (run, responder):
        spoken = world.add_message(ALICE, date=clock.now(), media=voice(VOICE_SIZE))
        await settle(lambda: any(m.text == "В пятницу." for m in run.outgoing(ALICE)))
        assert await stored_transcripts(run, ALICE, [spoken.id]) == {spoken.id: "когда встреча?"}
    (upload,) = llm.requests_to("/audio/transcriptions")
    assert upload.json["file"]["bytes"] == VOICE_SIZE
    (request,) = chat_requests(llm)
    assert request["messages"][-1] == {
        "role": "user",
        "content": "[voice message] когда встреча?",
    }
    (reply,) = run.outgoing(ALICE)
    assert reply.reply_to == spoken.id
    (line,) = run.audit()
    assert (line["result"], line["params"]["source_ids"]) == ("ok", [spoken.id])
    assert responder.voice_failures == 0


async def test_history_shows_an_earlier_voice_message_as_its_transcript(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    clock = FakeClock(SCENARIO_START)
    world = make_world()
    llm.script(
        Reply.of_text("купи молоко"), Reply.stream(["Хорошо."]), Reply.stream(["Уже купил."])
    )
    async with voice_host(world, tmp_path, llm, clock, settings(voice=True)) as (run, _):
        world.add_message(ALICE, date=clock.now(), media=voice(VOICE_SIZE))
        await settle(lambda: len(run.outgoing(ALICE)) == 1 and run.audit() != [])
        world.add_message(ALICE, text="Ну что?", date=clock.now())
        await settle(lambda: any(m.text == "Уже купил." for m in run.outgoing(ALICE)))
    _first, second = chat_requests(llm)
    turns = [(m["role"], m["content"]) for m in second["messages"][1:]]
    assert turns == [
        ("user", "[voice message] купи молоко"),
        ("assistant", "Хорошо."),
        ("user", "Ну что?"),
    ]
    assert len(llm.requests_to("/audio/transcriptions")) == 1  # the stored transcript is reused


async def test_with_voice_off_a_voice_message_is_never_downloaded_or_answered(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    clock = FakeClock(SCENARIO_START)
    world = make_world()
    async with voice_host(world, tmp_path, llm, clock, settings(voice=False)) as (run, _):
        world.add_message(ALICE, date=clock.now(), media=voice(VOICE_SIZE))
        await quiet()
    assert llm.requests == []
    assert run.outgoing(ALICE) == []
    assert world.requests["GetFileRequest"] == 0
    assert not any("voice" in line for line in run.logs)  # off: nothing to state


async def test_without_a_speech_provider_the_responder_stays_silent_and_says_why(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    clock = FakeClock(SCENARIO_START)
    world = make_world()
    why = "transcription unavailable: no API key for openai speech: set OPENAI_API_KEY"
    answer = settings(voice=True)
    async with voice_host(world, tmp_path, llm, clock, answer, speech=False, unavailable=why) as (
        run,
        _,
    ):
        world.add_message(ALICE, date=clock.now(), media=voice(VOICE_SIZE))
        await quiet()
    assert llm.requests == []
    assert run.outgoing(ALICE) == []
    stated = [line for line in run.logs if "voice replies unavailable" in line]
    assert stated == [f"autoanswer: voice replies unavailable ({why}); staying silent on voice"]


async def test_a_failed_transcription_is_counted_and_never_answered(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    clock = FakeClock(SCENARIO_START)
    world = make_world()
    llm.script(Reply.error(400, "could not decode audio"), Reply.stream(["Привет!"]))
    async with voice_host(world, tmp_path, llm, clock, settings(voice=True)) as (run, responder):
        spoken = world.add_message(ALICE, date=clock.now(), media=voice(VOICE_SIZE))
        await settle(lambda: responder.voice_failures == 1)
        await quiet()
        assert run.outgoing(ALICE) == []
        assert chat_requests(llm) == []
        asked = world.add_message(ALICE, text="Привет", date=clock.now())
        await settle(lambda: len(run.outgoing(ALICE)) == 1)
        await quiet()
    (reply,) = run.outgoing(ALICE)
    assert reply.text == "Привет!"
    assert "decode" not in reply.text and "400" not in reply.text
    (request,) = chat_requests(llm)
    assert request["messages"][-1] == {"role": "user", "content": "Привет"}  # not the voice
    assert [a["params"]["source_ids"] for a in run.audit()] == [[asked.id]]
    assert responder.answered_ids == [(ALICE, (asked.id,))]
    assert len(llm.requests_to("/audio/transcriptions")) == 1  # never retried
    failed = [line for line in run.logs if "left unanswered" in line]
    assert len(failed) == 1 and f"voice message {spoken.id}" in failed[0]


async def test_an_oversized_voice_message_is_refused_before_download(
    tmp_path: Path, llm: FakeLLMServer
) -> None:
    clock = FakeClock(SCENARIO_START)
    world = make_world()
    async with voice_host(world, tmp_path, llm, clock, settings(voice=True)) as (run, responder):
        world.add_message(ALICE, date=clock.now(), media=voice(30 * 1024 * 1024))
        await settle(lambda: responder.voice_failures == 1)
    assert llm.requests == []
    assert world.requests["GetFileRequest"] == 0
    assert run.outgoing(ALICE) == []


async def test_voice_transcriber_names_why_voice_is_unavailable(tmp_path: Path) -> None:
    env = {"TGPILOT_HOME": str(tmp_path), "TGPILOT_AUTOANSWER__VOICE": "true"}
    yandex = load_config(ConfigOptions(), env | {"TGPILOT_SPEECH__PROVIDER": "yandex"})
    async with await Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        transcriber, why = voice_transcriber(yandex, _NoTelegram(), store, FakeClock())
        assert transcriber is None
        assert why is not None and "YANDEX_FOLDER_ID" in why
        keyed = load_config(ConfigOptions(), env | {"OPENAI_API_KEY": "sk-test-123"})
        transcriber, why = voice_transcriber(keyed, _NoTelegram(), store, FakeClock())
        assert transcriber is not None and why is None
        off = load_config(ConfigOptions(), {"TGPILOT_HOME": str(tmp_path)})
        assert voice_transcriber(off, _NoTelegram(), store, FakeClock()) == (None, None)


class _NoTelegram:
    """A voice source that must not be used (building the transcriber calls nothing)."""

    async def get_messages(self, chat: Any, ids: Sequence[int]) -> list[Any]:
        raise AssertionError("no Telegram call expected")

    async def download_media(self, message: Any, path: Path) -> int:
        raise AssertionError("no Telegram call expected")
