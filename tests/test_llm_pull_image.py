"""``llm pull`` (Ollama's native ``/api/pull``) and ``llm image`` (the OpenAI images API)
end to end on the fake server (spec ai.md §1.1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tests.fakes.llm.shapes import FAKE_PNG, PULL_LAYERS
from tgpilot.cli.app import run
from tgpilot.gateways.llm.ollama import ollama_host

KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture
def ollama(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> FakeLLMServer:
    """The CLI's llm.base_url an Ollama-shaped loopback server (``…/v1``)."""
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    return server


def tgpilot(
    clock: FakeClock, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args), clock=clock)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------- pull


def test_the_ollama_host_is_the_base_url_without_v1() -> None:
    assert ollama_host("http://localhost:11434/v1") == "http://localhost:11434"
    assert ollama_host("http://localhost:11434/v1/") == "http://localhost:11434"
    assert ollama_host("http://gpu-box:11434") == "http://gpu-box:11434"


def test_pull_streams_progress_to_success(
    ollama: FakeLLMServer, fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = tgpilot(fake_clock, capsys, "llm", "pull", "llama3.1:8b", "--json")
    assert code == 0, err
    [request] = ollama.requests
    assert (request.method, request.path) == ("POST", "/api/pull")  # not under /v1
    assert request.json == {"model": "llama3.1:8b", "stream": True}
    assert "authorization" not in request.headers  # no provider key goes to Ollama
    assert json.loads(out) == {
        "model": "llama3.1:8b",
        "host": ollama.url,
        "status": "success",
        "layers": len(PULL_LAYERS),
        "bytes": sum(size for _digest, size in PULL_LAYERS),
    }
    assert "pulling manifest" in err and "writing manifest" in err
    code, out, err = tgpilot(fake_clock, capsys, "llm", "pull", "llama3.1:8b")
    assert code == 0, err
    assert out.strip() == f"pulled llama3.1:8b into {ollama.url}: 2 layer(s), 5000 bytes"


def test_an_unknown_model_exits_2_with_ollamas_error(
    ollama: FakeLLMServer, fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = tgpilot(fake_clock, capsys, "llm", "pull", "no-such-model")
    assert code == 2
    assert out == ""
    assert "ollama error 200: pull model manifest: file does not exist: no-such-model" in err


def test_a_failing_server_exits_1_and_a_missing_host_exits_2(
    server: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _out, err = tgpilot(fake_clock, capsys, "llm", "pull", "llama3.1:8b")
    assert code == 2 and "llm.base_url is not set" in err
    assert server.requests == []
    server.script(Reply.error(500, "disk full"))
    code, _out, err = tgpilot(
        fake_clock, capsys, "llm", "pull", "llama3.1:8b", "--host", server.url
    )
    assert code == 1
    assert "ollama error 500: disk full" in err


# --------------------------------------------------------------------------- image


@pytest.fixture
def openai_env(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> FakeLLMServer:
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("TGPILOT_LLM__MAX_RETRIES", "2")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return server


def test_image_is_generated_and_written(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    openai_env.script(Reply.of_text("a cat on a Telegram paper plane"))
    target = tmp_path / "art" / "cat.png"
    code, out, err = tgpilot(
        fake_clock, capsys, "llm", "image", "a cat", "--out", str(target),
        "--size", "1024x1024", "--json",
    )  # fmt: skip
    assert code == 0, err
    [request] = openai_env.requests_to("/images/generations")
    assert request.json == {"model": "gpt-image-1", "prompt": "a cat", "n": 1, "size": "1024x1024"}
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert target.read_bytes() == FAKE_PNG
    assert [p.name for p in target.parent.iterdir()] == ["cat.png"]  # no temporary left
    data = json.loads(out)
    assert data["file"] == str(target) and data["bytes"] == len(FAKE_PNG)
    assert data["revised_prompt"] == "a cat on a Telegram paper plane"
    assert data["usage"]["calls"] == 1
    assert KEY not in out + err


def test_dall_e_is_asked_for_b64_json(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    target = tmp_path / "dog.png"
    code, out, err = tgpilot(
        fake_clock, capsys, "llm", "image", "a dog", "--out", str(target), "--model", "dall-e-3"
    )
    assert code == 0, err
    [request] = openai_env.requests_to("/images/generations")
    assert request.json["response_format"] == "b64_json"
    assert out.startswith(f"wrote {target} ({len(FAKE_PNG)} bytes, dall-e-3)")


def test_an_image_error_keeps_the_old_file(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    target = tmp_path / "cat.png"
    target.write_bytes(b"old")
    openai_env.script(Reply.error(400, "Your request was rejected by the safety system"))
    code, _out, err = tgpilot(fake_clock, capsys, "llm", "image", "x", "--out", str(target))
    assert code == 1
    assert "openai error 400: Your request was rejected" in err
    assert target.read_bytes() == b"old"
    bad = Reply.raw(json.dumps({"created": 1, "data": [{"b64_json": "!!not base64!!"}]}))
    openai_env.script(bad)
    code, _out, err = tgpilot(fake_clock, capsys, "llm", "image", "x", "--out", str(target))
    assert code == 1 and "no image from model gpt-image-1" in err
    assert target.read_bytes() == b"old"


def test_a_provider_without_images_exits_2_and_sends_nothing(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    out_file = str(tmp_path / "x.png")
    for provider in ("anthropic", "gemini", "local"):
        code, _out, err = tgpilot(
            fake_clock, capsys, "llm", "image", "x", "--out", out_file, "--provider", provider
        )
        assert code == 2, provider
        assert f"provider {provider} cannot generate images" in err
    code, _out, err = tgpilot(
        fake_clock, capsys, "llm", "image", "x", "--out", out_file, "--size", "huge"
    )
    assert code == 2 and "--size" in err
    assert openai_env.requests == []
    assert not (tmp_path / "x.png").exists()
