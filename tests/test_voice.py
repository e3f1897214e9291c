"""``tgpilot transcribe`` and ``tgpilot tts`` on the fake speech endpoints (ai.md §4.11,
scenario 32's second half; §5: unavailable without a provider, stated)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tests.fakes.llm.shapes import FAKE_AUDIO
from tgpilot.cli.app import run

KEY = "sk-test-0123456789abcdef"
IAM = "t1.iam-token-secret-0123456789"
YANDEX_KEY = "AQVN-yandex-api-key-secret-0123"
FOLDER = "b1gfolder42"


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture
def openai_env(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> FakeLLMServer:
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return server


@pytest.fixture
def yandex_env(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> FakeLLMServer:
    monkeypatch.setenv("TGPILOT_SPEECH__PROVIDER", "yandex")
    monkeypatch.setenv("TGPILOT_SPEECH__YANDEX_STT_URL", f"{server.url}/speech/v1/stt:recognize")
    monkeypatch.setenv("TGPILOT_SPEECH__YANDEX_TTS_URL", f"{server.url}/speech/v1/tts:synthesize")
    monkeypatch.setenv("YANDEX_FOLDER_ID", FOLDER)
    return server


@pytest.fixture
def audio(tmp_path: Path) -> Path:
    path = tmp_path / "note.ogg"
    path.write_bytes(b"OggS" + b"\x00" * 100)
    return path


def tgpilot(
    clock: FakeClock, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args), clock=clock)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (KEY, IAM, YANDEX_KEY):
            assert secret not in text


# ------------------------------------------------------------------ transcription


def test_openai_transcription_returns_the_fakes_text(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    audio: Path,
) -> None:
    openai_env.script(Reply.of_text("привет, это тест"))
    code, out, err = tgpilot(fake_clock, capsys, "transcribe", str(audio), "--language", "ru")
    assert code == 0, err
    assert out.strip() == "привет, это тест"
    (call,) = openai_env.requests_to("/audio/transcriptions")
    assert call.json["model"] == "whisper-1"
    assert call.json["language"] == "ru"
    assert call.json["file"]["bytes"] == audio.stat().st_size
    assert call.headers["authorization"] == f"Bearer {KEY}"
    assert_no_secret(out, err)


def test_transcribe_json_shape(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    audio: Path,
) -> None:
    openai_env.script(Reply.of_text("hello"))
    code, out, err = tgpilot(fake_clock, capsys, "transcribe", str(audio), "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "source": str(audio),
        "text": "hello",
        "provider": "openai",
        "model": "whisper-1",
        "language": None,
        "stored": False,
    }


def test_yandex_with_both_credentials_sends_bearer(
    yandex_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    audio: Path,
) -> None:
    monkeypatch.setenv("YANDEX_IAM_TOKEN", IAM)
    monkeypatch.setenv("YANDEX_API_KEY", YANDEX_KEY)
    yandex_env.script(Reply.of_text("добрый день"))
    code, out, err = tgpilot(fake_clock, capsys, "transcribe", str(audio), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["text"] == "добрый день"
    assert result["provider"] == "yandex"
    (call,) = yandex_env.requests_to("stt:recognize")
    assert call.headers["authorization"] == f"Bearer {IAM}"
    assert call.query["folderId"] == FOLDER
    assert call.query["lang"] == "ru-RU"
    assert call.json == {"bytes": audio.stat().st_size}
    assert_no_secret(out, err)


def test_yandex_api_key_only_sends_api_key(
    yandex_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    audio: Path,
) -> None:
    monkeypatch.setenv("YANDEX_API_KEY", YANDEX_KEY)
    yandex_env.script(Reply.of_text("ok"))
    code, out, err = tgpilot(fake_clock, capsys, "transcribe", str(audio), "--language", "en-US")
    assert code == 0, err
    assert out.strip() == "ok"
    (call,) = yandex_env.requests_to("stt:recognize")
    assert call.headers["authorization"] == f"Api-Key {YANDEX_KEY}"
    assert call.query["lang"] == "en-US"


def test_yandex_missing_folder_id_exits_2_naming_it(
    yandex_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    audio: Path,
) -> None:
    monkeypatch.delenv("YANDEX_FOLDER_ID")
    monkeypatch.setenv("YANDEX_IAM_TOKEN", IAM)
    code, out, err = tgpilot(fake_clock, capsys, "transcribe", str(audio))
    assert code == 2
    assert "YANDEX_FOLDER_ID" in err
    assert yandex_env.requests == []
    assert_no_secret(out, err)


def test_yandex_error_is_typed_and_redacted(
    yandex_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    audio: Path,
) -> None:
    monkeypatch.setenv("YANDEX_API_KEY", YANDEX_KEY)
    yandex_env.script(Reply.error(401, f"bad key {YANDEX_KEY}"))
    code, out, err = tgpilot(fake_clock, capsys, "transcribe", str(audio))
    assert code == 1
    assert "yandex error 401" in err
    assert len(yandex_env.requests) == 1
    assert_no_secret(out, err)


def test_no_key_is_unavailable_stated(
    server: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    audio: Path,
) -> None:
    code, _out, err = tgpilot(fake_clock, capsys, "transcribe", str(audio))
    assert code == 2
    assert "transcription unavailable" in err
    assert "OPENAI_API_KEY" in err
    code, _out, err = tgpilot(fake_clock, capsys, "tts", "hi", "--out", "x.mp3")
    assert code == 2
    assert "speech synthesis unavailable" in err
    assert server.requests == []


def test_bad_extension_exits_2_without_a_request(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not audio")
    code, _out, err = tgpilot(fake_clock, capsys, "transcribe", str(path))
    assert code == 2
    assert ".txt" in err
    assert openai_env.requests == []


def test_oversized_file_exits_2_naming_the_limit(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("TGPILOT_SPEECH__MAX_UPLOAD_MB", "0.001")
    path = tmp_path / "long.mp3"
    path.write_bytes(b"\x00" * 2048)
    code, _out, err = tgpilot(fake_clock, capsys, "transcribe", str(path))
    assert code == 2
    assert "upload limit of 1048 bytes" in err
    assert openai_env.requests == []


# ------------------------------------------------------------------ synthesis


def test_tts_writes_the_fakes_bytes(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    out_file = tmp_path / "out" / "hello.ogg"
    code, out, err = tgpilot(
        fake_clock, capsys, "tts", "Hello", "--out", str(out_file), "--format", "ogg", "--json"
    )
    assert code == 0, err
    assert out_file.read_bytes() == FAKE_AUDIO
    assert json.loads(out) == {
        "file": str(out_file),
        "bytes": len(FAKE_AUDIO),
        "format": "ogg",
        "provider": "openai",
        "voice": "alloy",
    }
    (call,) = openai_env.requests_to("/audio/speech")
    assert call.json["input"] == "Hello"
    assert call.json["response_format"] == "opus"
    assert call.json["model"] == "tts-1"
    assert list(out_file.parent.iterdir()) == [out_file]
    assert_no_secret(out, err)


def test_yandex_tts_sends_form_fields(
    yandex_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("YANDEX_IAM_TOKEN", IAM)
    monkeypatch.setenv("TGPILOT_SPEECH__EMOTION", "good")
    monkeypatch.setenv("TGPILOT_SPEECH__SPEED", "1.2")
    out_file = tmp_path / "hi.mp3"
    ssml = "<speak>Привет</speak>"
    code, _out, err = tgpilot(
        fake_clock, capsys, "tts", ssml, "--out", str(out_file), "--ssml", "--voice", "filipp"
    )
    assert code == 0, err
    assert out_file.read_bytes() == FAKE_AUDIO
    (call,) = yandex_env.requests_to("tts:synthesize")
    assert call.headers["authorization"] == f"Bearer {IAM}"
    assert call.json == {
        "ssml": ssml,
        "voice": "filipp",
        "format": "mp3",
        "folderId": FOLDER,
        "lang": "ru-RU",
        "emotion": "good",
        "speed": "1.2",
    }


def test_tts_ssml_needs_yandex(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    code, _out, err = tgpilot(
        fake_clock, capsys, "tts", "<speak/>", "--out", str(tmp_path / "a.mp3"), "--ssml"
    )
    assert code == 2
    assert "--ssml" in err
    assert openai_env.requests == []
