"""``tgpilot digest`` (spec ai.md §4.2, §5; scenarios 15, 16): the LLM digest on the fake
provider server, the local activity digest, empty windows, fallback and files — all on
Telegram Desktop exports, with the clock frozen at 2024-03-10 12:00 UTC."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.analyze_fixtures import (
    ANNA,
    BORIS,
    FROZEN_NOW,
    message,
    single_chat,
    write_export,
)
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tgpilot.cli.app import run
from tgpilot.models import Message, Reaction, Sender
from tgpilot.services.ai.digest import compute_activity, digest_line
from tgpilot.services.ai.digest.llm import newest_that_fit

KEY = "sk-test-0123456789abcdef"
STAMP = "20240310-120000"
FIVE_HEARTS = [{"type": "emoji", "count": 5, "emoji": "❤"}]
SCRIPT_TEXT = "Обсуждаем релиз: <script>alert(1)</script> и план на неделю"
ANSWER = "## Topics\n- The release date was agreed."


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(FROZEN_NOW)


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture
def openai_env(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> FakeLLMServer:
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return server


def at(hour: int, minute: int, day: int = 10) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """Scenario 15: 3 messages from 2 senders today, Boris's with 5 reactions."""
    return write_export(
        tmp_path / "team",
        single_chat(
            [
                message(1, at(9, 15), ANNA, SCRIPT_TEXT),
                message(
                    2,
                    at(10, 20),
                    BORIS,
                    "Релиз в пятницу, https://example.com/plan",
                    reactions=FIVE_HEARTS,
                ),
                message(3, at(10, 45), ANNA, "Договорились, пятница", reply_to_message_id=2),
            ],
            name="Team",
        ),
    )


def tgpilot(
    clock: FakeClock, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args), clock=clock)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------- scenario 15


def test_scenario_15_llm_digest_lines_and_footer(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    team: Path,
    tmp_path: Path,
) -> None:
    openai_env.script(Reply.of_text(ANSWER))
    out_dir = tmp_path / "out"
    code, out, err = tgpilot(
        fake_clock,
        capsys,
        "digest",
        "Team",
        "--source",
        str(team),
        "--out",
        str(out_dir),
        "--format",
        "md,json,html",
        "--json",
    )
    assert code == 0, err
    [request] = openai_env.requests_to("/chat/completions")
    system, user = request.json["messages"]
    assert system["role"] == "system" and "digests of Telegram group chats" in system["content"]
    lines = user["content"].splitlines()
    assert "10:20 Boris: Релиз в пятницу, https://example.com/plan [5❤]" in lines
    assert f"09:15 Anna: {SCRIPT_TEXT}" in lines
    assert "10:45 Anna: Договорились, пятница" in lines
    result = json.loads(out)
    assert result["digest"] == ANSWER
    assert result["footer"] == "3 messages from 2 participants"
    assert result["status"] == "ok" and result["degraded"] is False
    assert result["llm"]["prompt"] == "digest" and result["llm"]["messages_sent"] == 3
    assert result["activity"]["busiest_hour"] == "10:00 (2 messages)"
    assert result["top_messages"] is None and result["links"] is None
    assert result["usage"]["calls"] == 1
    assert "LLM usage: 1 call" in err
    stem = f"Team_-1001700000020_{STAMP}"
    assert sorted(Path(p).name for p in result["files"].values()) == [
        f"{stem}.html",
        f"{stem}.json",
        f"{stem}.md",
    ]
    markdown = (out_dir / f"{stem}.md").read_text("utf-8")
    assert ANSWER in markdown
    assert "_3 messages from 2 participants_" in markdown
    assert "- Busiest hour: 10:00 (2 messages)" in markdown
    page = (out_dir / f"{stem}.html").read_text("utf-8")
    assert "<script" not in page and 'href="http' not in page and 'src="http' not in page


def test_scenario_15_human_output_prints_the_digest(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    team: Path,
    tgpilot_home: Path,
) -> None:
    openai_env.script(Reply.of_text(ANSWER))
    code, out, err = tgpilot(fake_clock, capsys, "digest", "Team", "--source", str(team))
    assert code == 0, err
    assert out.startswith("# Digest: Team\n")
    assert ANSWER in out and "_3 messages from 2 participants_" in out
    assert "1. Anna — 2 (66.7 %)" in out and "2. Boris — 1 (33.3 %)" in out
    assert (tgpilot_home / "reports" / f"Team_-1001700000020_{STAMP}.md").is_file()


def test_scenario_15_empty_window_calls_no_model(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    team: Path,
    tgpilot_home: Path,
) -> None:
    code, out, _err = tgpilot(
        fake_clock, capsys, "digest", "Team", "--source", str(team), "--hours", "1"
    )
    assert code == 0
    assert out.strip() == "no messages in the selected period"
    assert openai_env.requests == []
    assert not (tgpilot_home / "reports").exists()
    code, out, _err = tgpilot(
        fake_clock, capsys, "digest", "Team", "--source", str(team), "--hours", "1", "--json"
    )
    assert code == 0
    result = json.loads(out)
    assert result["message"] == "no messages in the selected period"
    assert result["activity"]["busiest_hour"] is None
    assert result["activity"]["media_percent"] == 0.0
    assert openai_env.requests == []


def test_digest_line_cuts_text_and_marks_reactions() -> None:
    sender = Sender(7, "", username="kate")
    long = Message(
        chat_id=1,
        id=1,
        date=at(8, 5),
        text="слово\n" * 200,
        sender=sender,
        reactions=(Reaction("emoji", 2, "👍"), Reaction("paid", 1)),
    )
    line = digest_line(long, UTC)
    head, text = line.split(": ", 1)
    assert head == "08:05 @kate"
    assert text.endswith("… [3❤]")
    assert len(text.removesuffix(" [3❤]")) == 500
    photo = Message(chat_id=1, id=2, date=at(8, 6), media_type="photo", sender=None)
    assert digest_line(photo, UTC) == "08:06 Unknown sender: [media]"


def test_a_long_period_keeps_the_newest_lines_that_fit() -> None:
    lines = [f"line {n}" for n in range(10)]
    assert newest_that_fit(lines, 30, lambda text: 10) == ["line 7", "line 8", "line 9"]
    assert newest_that_fit(lines, 1000, lambda text: 10) == lines


# --------------------------------------------------------------------------- scenario 16


def timed(id: int, when: datetime, sender: Sender, text: str, **fields: Any) -> Message:
    return Message(chat_id=1, id=id, date=when, text=text, sender=sender, **fields)


def test_scenario_16_busiest_hour_ties_go_to_the_earlier_hour() -> None:
    anna, boris = Sender(101, "Anna"), Sender(102, "Boris")
    messages = [
        timed(1, at(10, 5, 9), anna, "a" * 60),
        timed(2, at(10, 55, 9), boris, "b" * 20),
        timed(3, at(14, 0, 9), anna, "", media_type="sticker"),
        timed(4, at(14, 30, 9), anna, "c" * 40, media_type="photo"),
    ]
    digest = compute_activity(
        messages, since=FROZEN_NOW - timedelta(days=7), until=FROZEN_NOW, tz=UTC
    )
    assert digest.busiest_text == "10:00 (2 messages)"
    assert (digest.total, digest.media, digest.media_percent) == (4, 2, 50.0)
    assert digest.participants == 2
    assert digest.average_length == 40.0
    assert [(u.name, u.messages, u.percent) for u in digest.top_users] == [
        ("Anna", 3, 75.0),
        ("Boris", 1, 25.0),
    ]
    assert [s.text for s in digest.samples] == ["a" * 60]


def test_scenario_16_empty_window() -> None:
    digest = compute_activity([], since=None, until=FROZEN_NOW, tz=UTC)
    assert digest.busiest_text == "—"
    assert digest.media_percent == 0.0
    assert digest.footer == "0 messages from 0 participants"


def test_scenario_16_local_activity_digest(
    fake_clock: FakeClock, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_export(
        tmp_path / "quiet",
        single_chat(
            [
                message(1, at(10, 10, 9), ANNA, "Первое сообщение про планы на неделю, " * 3),
                message(
                    2,
                    at(10, 50, 9),
                    BORIS,
                    "Смотрите www.example.org и t.me/team",
                    reactions=FIVE_HEARTS,
                ),
                message(3, at(14, 5, 9), ANNA, "Ответ", reply_to_message_id=2),
                message(4, at(14, 30, 9), BORIS, "", photo="(File not included.)"),
            ],
            name="Quiet",
        ),
    )
    code, out, err = tgpilot(
        fake_clock,
        capsys,
        "--tz",
        "UTC",
        "digest",
        "Quiet",
        "--source",
        str(path),
        "--period",
        "week",
        "--provider",
        "local",
        "--samples",
        "--top",
        "1",
    )
    assert code == 0, err
    assert "notice" not in err
    assert "- Busiest hour: 10:00 (2 messages)" in out
    assert "- Messages: 4 (media: 1, 25.0 %)" in out
    assert "- Active participants: 2" in out
    assert "1. Anna — 2 (50.0 %)" in out and "Boris —" not in out
    assert "### Samples" in out and "Первое сообщение про планы" in out
    assert "### Most reacted and replied" in out
    assert "Boris: Смотрите www.example.org и t.me/team (5 reactions, 1 reply)" in out
    assert "- <www.example.org>" in out and "- <t.me/team>" in out
    assert "_4 messages" not in out


# --------------------------------------------------------------------------- local mode


def test_no_key_gives_a_notice_and_the_local_digest(
    fake_clock: FakeClock, capsys: pytest.CaptureFixture[str], team: Path, tmp_path: Path
) -> None:
    code, out, err = tgpilot(
        fake_clock,
        capsys,
        "digest",
        "Team",
        "--source",
        str(team),
        "--json",
        "--samples",
        "--format",
        "html",
        "--out",
        str(tmp_path / "out"),
    )
    assert code == 0, err
    assert "notice: no API key for openai" in err
    result = json.loads(out)
    assert result["status"] == "local" and result["digest"] is None
    assert result["links"] == ["https://example.com/plan"]
    assert [m["id"] for m in result["top_messages"]] == [2]
    assert result["top_messages"][0]["replies"] == 1
    assert [s["text"] for s in result["samples"]] == [SCRIPT_TEXT]
    page = Path(result["files"]["html"]).read_text("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page and 'href="http' not in page


def test_provider_failure_falls_back_to_local_degraded_exit_3(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    team: Path,
) -> None:
    openai_env.script(Reply.error(401, "bad key"))
    code, out, err = tgpilot(fake_clock, capsys, "digest", "Team", "--source", str(team), "--json")
    assert code == 3
    result = json.loads(out)
    assert result["degraded"] is True and result["status"] == "degraded"
    assert result["digest"] is None and result["links"] == ["https://example.com/plan"]
    assert "degraded" in err


def test_provider_failure_without_fallback_exits_1(
    openai_env: FakeLLMServer,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    team: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TGPILOT_LLM__FALLBACK", "none")
    openai_env.script(Reply.error(401, "bad key"))
    code, out, err = tgpilot(fake_clock, capsys, "digest", "Team", "--source", str(team))
    assert code == 1
    assert out == ""
    assert "openai error 401" in err


def test_bad_usage_exits_2(
    fake_clock: FakeClock, capsys: pytest.CaptureFixture[str], team: Path
) -> None:
    source = ("--source", str(team))
    assert tgpilot(fake_clock, capsys, "digest", "Team", *source, "--period", "year")[0] == 2
    assert (
        tgpilot(fake_clock, capsys, "digest", "Team", *source, "--hours", "3", "--period", "day")[0]
        == 2
    )
    assert tgpilot(fake_clock, capsys, "digest", "Team", *source, "--provider", "opnai")[0] == 2
    assert tgpilot(fake_clock, capsys, "digest", "Team", *source, "--format", "pdf")[0] == 2
    assert tgpilot(fake_clock, capsys, "digest", "Nope", *source)[0] == 2
