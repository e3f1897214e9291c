"""``tgpilot transcribe CHAT:MSG`` and ``transcribe CHAT --all`` on the fake Telegram and
the fake speech endpoint (ai.md §4.11): the message's voice/audio file is found,
size-checked from its metadata, downloaded into a temporary folder and uploaded, and
the transcript is stored with the message; anything else exits 2 before a byte moves.
The batch mode takes every archived spoken message without a transcript, skips (and
counts) the oversized and unsupported ones, and exits 3 when some failed."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tests.fakes.telegram import FakeTelegram, audio, photo, round_video, voice
from tests.harness import Cli
from tgpilot.store import Store
from tgpilot.store.transcripts import StoredTranscript, TranscriptRepository

KEY = "sk-test-0123456789abcdef"
T0 = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
CLUB = "bookclub"
VOICE_SIZE = 20_000
TRACK_SIZE = 30_000
ROUND_SIZE = 40_000


def voice_world() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice")
    club = world.add_supergroup(1234567890, "Book Club", CLUB, members=[alice])
    world.add_message(club, 41, text="Hello everyone", date=T0, sender=alice)
    world.add_message(club, 42, date=T0, sender=alice, media=voice(VOICE_SIZE))
    world.add_message(club, 43, date=T0, sender=alice, media=audio(TRACK_SIZE, "song.mp3"))
    world.add_message(club, 44, date=T0, sender=alice, media=photo(10_000))
    world.add_message(club, 45, date=T0, sender=alice, media=round_video(ROUND_SIZE))
    world.add_message(club, 46, date=T0, sender=alice, media=audio(TRACK_SIZE, "tune.aac"))
    return world


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture
def speech(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> FakeLLMServer:
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return server


@pytest.fixture
def cli(make_cli: Callable[..., Cli], speech: FakeLLMServer) -> Cli:
    harness = make_cli(voice_world())
    harness.world.reset_counts()
    return harness


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private temporary-files root, to check that the download is cleaned up."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def write_config(text: str) -> None:
    """A ``config.yml`` in the working directory (where the loader starts looking)."""
    (Path.cwd() / "config.yml").write_text(text, encoding="utf-8")


def downloads(cli: Cli) -> int:
    return cli.world.requests["GetFileRequest"]


def test_voice_message_is_downloaded_and_transcribed(
    cli: Cli, speech: FakeLLMServer, temp_root: Path
) -> None:
    speech.script(Reply.of_text("привет из голосового"))
    result = cli("transcribe", f"{CLUB}:42", "--language", "ru")
    assert result.code == 0, result.err
    assert result.out.strip() == "привет из голосового"
    assert downloads(cli) >= 1
    (call,) = speech.requests_to("/audio/transcriptions")
    assert call.json["file"]["bytes"] == VOICE_SIZE
    assert call.json["file"]["filename"] == "42_voice.ogg"
    assert call.json["language"] == "ru"
    assert call.json["model"] == "whisper-1"
    assert list(temp_root.iterdir()) == []  # the temporary download is gone
    assert KEY not in result.out + result.err


def test_voice_message_json_shape(cli: Cli, speech: FakeLLMServer) -> None:
    speech.script(Reply.of_text("hello"))
    result = cli("transcribe", f"{CLUB}:42", "--json")
    assert result.code == 0, result.err
    assert result.json() == {
        "source": f"{CLUB}:42",
        "text": "hello",
        "provider": "openai",
        "model": "whisper-1",
        "language": None,
        "stored": True,
    }
    (call,) = speech.requests_to("/audio/transcriptions")
    assert call.json["file"]["bytes"] == VOICE_SIZE


@pytest.mark.parametrize(
    ("msg", "size", "filename"),
    [(43, TRACK_SIZE, "43_song.mp3"), (45, ROUND_SIZE, "45_round.mp4")],
)
def test_audio_and_round_messages_are_accepted(
    cli: Cli, speech: FakeLLMServer, msg: int, size: int, filename: str
) -> None:
    speech.script(Reply.of_text("words"))
    result = cli("transcribe", f"{CLUB}:{msg}")
    assert result.code == 0, result.err
    assert result.out.strip() == "words"
    (call,) = speech.requests_to("/audio/transcriptions")
    assert call.json["file"] == {"filename": filename, "bytes": size}


def test_text_message_exits_2_without_download_or_speech(cli: Cli, speech: FakeLLMServer) -> None:
    result = cli("transcribe", f"{CLUB}:41")
    assert result.code == 2
    assert "message 41" in result.err
    assert "is text, not a voice or audio message" in result.err
    assert result.out == ""
    assert downloads(cli) == 0
    assert speech.requests == []


def test_photo_message_exits_2_naming_its_kind(cli: Cli, speech: FakeLLMServer) -> None:
    result = cli("transcribe", f"{CLUB}:44")
    assert result.code == 2
    assert "is photo, not a voice or audio message" in result.err
    assert downloads(cli) == 0
    assert speech.requests == []


def test_unsupported_audio_type_exits_2_before_download(cli: Cli, speech: FakeLLMServer) -> None:
    result = cli("transcribe", f"{CLUB}:46")
    assert result.code == 2
    assert "unsupported audio type .aac" in result.err
    assert downloads(cli) == 0
    assert speech.requests == []


def test_unknown_message_exits_2(cli: Cli, speech: FakeLLMServer) -> None:
    result = cli("transcribe", f"{CLUB}:999", "--json")
    assert result.code == 2
    assert "message 999 not found in bookclub" in result.err
    assert result.out == ""
    assert downloads(cli) == 0
    assert speech.requests == []


def test_unknown_chat_exits_nonzero_without_speech(cli: Cli, speech: FakeLLMServer) -> None:
    result = cli("transcribe", "nosuchchat:42")
    assert result.code != 0
    assert "nosuchchat" in result.err
    assert downloads(cli) == 0
    assert speech.requests == []


def test_oversized_voice_exits_2_before_download(cli: Cli, speech: FakeLLMServer) -> None:
    write_config("speech:\n  max_upload_mb: 0.001\n")  # 1048 bytes
    result = cli("transcribe", f"{CLUB}:42")
    assert result.code == 2, result.err
    assert f"{VOICE_SIZE} bytes is over the upload limit of 1048 bytes" in result.err
    assert "speech.max_upload_mb" in result.err
    assert downloads(cli) == 0
    assert speech.requests == []


def test_oversized_limit_from_the_environment_too(
    cli: Cli, speech: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TGPILOT_SPEECH__MAX_UPLOAD_MB", "0.001")
    result = cli("transcribe", f"{CLUB}:43", "--json")
    assert result.code == 2
    assert "over the upload limit of 1048 bytes" in result.err
    assert result.out == ""
    assert downloads(cli) == 0
    assert speech.requests == []


def test_speech_unavailable_exits_2_before_telegram(
    make_cli: Callable[..., Cli], server: FakeLLMServer
) -> None:
    harness = make_cli(voice_world())
    harness.world.reset_counts()
    result = harness("transcribe", f"{CLUB}:42")
    assert result.code == 2
    assert "transcription unavailable" in result.err
    assert downloads(harness) == 0
    assert server.requests == []


# --------------------------------------------------------------------------- stored


CLUB_ID = -1001234567890


def stored_transcripts(cli: Cli) -> dict[int, StoredTranscript]:
    async def read() -> dict[int, StoredTranscript]:
        async with await Store.open(f"sqlite:///{cli.home / 'tgpilot.db'}") as store:
            return await TranscriptRepository(store).get_many(CLUB_ID, range(40, 50))

    return asyncio.run(read())


def archived(cli: Cli) -> Cli:
    result = cli("archive", "sync", CLUB)
    assert result.code == 0, result.err
    cli.world.reset_counts()
    return cli


def test_a_message_transcript_is_stored_with_the_message(cli: Cli, speech: FakeLLMServer) -> None:
    speech.script(Reply.of_text("first words"), Reply.of_text("second words"))
    assert cli("transcribe", f"{CLUB}:42", "--language", "en").code == 0
    [stored] = stored_transcripts(cli).values()
    assert (stored.message_id, stored.text, stored.language) == (42, "first words", "en")
    assert (stored.provider, stored.model) == ("openai", "whisper-1")
    assert cli("transcribe", f"{CLUB}:42").code == 0  # again: replaced, not duplicated
    assert {i: t.text for i, t in stored_transcripts(cli).items()} == {42: "second words"}


def test_a_transcribed_file_is_not_stored(cli: Cli, speech: FakeLLMServer, tmp_path: Path) -> None:
    clip = tmp_path / "note.ogg"
    clip.write_bytes(b"OggS" + bytes(100))
    speech.script(Reply.of_text("from a file"))
    result = cli("transcribe", str(clip), "--json")
    assert result.code == 0, result.err
    assert result.json()["stored"] is False
    assert downloads(cli) == 0


def test_all_transcribes_the_chats_voice_messages_once(cli: Cli, speech: FakeLLMServer) -> None:
    archived(cli)
    speech.script(Reply.of_text("round words"), Reply.of_text("song words"), Reply.of_text("hi"))
    result = cli("transcribe", CLUB, "--all", "--json")
    assert result.code == 0, result.err
    assert result.json() == {
        "chat": "Book Club",
        "chat_id": CLUB_ID,
        "candidates": 4,
        "transcribed": 3,
        "skipped": {"oversized": 0, "unsupported": 1, "gone": 0},
        "failed": 0,
        "failures": [],
    }
    assert len(speech.requests_to("/audio/transcriptions")) == 3
    assert world_lookups(cli) == 1  # one get_messages for the whole batch
    texts = {i: t.text for i, t in stored_transcripts(cli).items()}
    assert texts == {45: "round words", 43: "song words", 42: "hi"}  # newest first

    again = cli("transcribe", CLUB, "--all")
    assert again.code == 0, again.err
    assert "0 of 1 voice messages transcribed; skipped 0 oversized, 1 unsupported" in again.out
    assert len(speech.requests_to("/audio/transcriptions")) == 3  # nothing sent again


def test_all_exits_3_when_some_fail_and_names_them(cli: Cli, speech: FakeLLMServer) -> None:
    archived(cli)
    speech.script(Reply.of_text("ok"), Reply.error(400, "bad audio"), Reply.of_text("ok"))
    result = cli("transcribe", CLUB, "--all", "--json")
    assert result.code == 3, result.err
    summary = result.json()
    assert (summary["transcribed"], summary["failed"]) == (2, 1)
    assert summary["failures"][0]["message_id"] == 43
    assert "message 43" in result.err
    assert KEY not in result.out + result.err
    assert sorted(stored_transcripts(cli)) == [42, 45]
    retry = cli("transcribe", CLUB, "--all", "--json")  # the failed one is still pending
    assert retry.code == 0, retry.err
    assert retry.json()["transcribed"] == 1


def test_all_failing_exits_1(cli: Cli, speech: FakeLLMServer) -> None:
    archived(cli)
    speech.script(*[Reply.error(400, "bad audio")] * 3)
    result = cli("transcribe", CLUB, "--all")
    assert result.code == 1
    assert "0 of 4 voice messages transcribed" in result.out


def test_all_skips_oversized_messages_before_download(cli: Cli, speech: FakeLLMServer) -> None:
    archived(cli)
    write_config("speech:\n  max_upload_mb: 0.025\n")  # 26,214 bytes: only the voice fits
    speech.script(Reply.of_text("short one"))
    result = cli("transcribe", CLUB, "--all", "--json")
    assert result.code == 0, result.err
    assert result.json()["skipped"] == {"oversized": 3, "unsupported": 0, "gone": 0}
    assert result.json()["transcribed"] == 1
    assert downloads(cli) >= 1
    (call,) = speech.requests_to("/audio/transcriptions")
    assert call.json["file"]["bytes"] == VOICE_SIZE


def test_all_with_limit_and_since(cli: Cli, speech: FakeLLMServer) -> None:
    archived(cli)
    limited = cli("transcribe", CLUB, "--all", "--limit", "2", "--json")
    assert limited.code == 0, limited.err
    assert (limited.json()["candidates"], limited.json()["transcribed"]) == (2, 1)  # 46, 45
    later = cli("transcribe", CLUB, "--all", "--since", "2025-01-03", "--json")
    assert later.code == 0, later.err
    assert later.json()["candidates"] == 0
    assert len(speech.requests_to("/audio/transcriptions")) == 1


def test_since_and_limit_need_all(cli: Cli, speech: FakeLLMServer) -> None:
    result = cli("transcribe", f"{CLUB}:42", "--limit", "3")
    assert result.code == 2
    assert "--since and --limit go with --all" in result.err
    assert speech.requests == []


def world_lookups(cli: Cli) -> int:
    return cli.world.requests["GetMessagesRequest"]
