"""``tgpilot analyze`` end to end, offline (spec ai.md §4.1, §5; scenarios 7, 8, 12, 14):
a Telegram Desktop export and the archive as sources, every report format, file names,
the index of several chats, exit codes and the notice when an LLM is asked for without a key."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.analyze_fixtures import (
    ANNA,
    CHAT20_MARKED_ID,
    FROZEN_NOW,
    account_export,
    aged_messages,
    chat20_export,
    message,
    single_chat,
    write_export,
)
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli, CliResult

STAMP = "20240310-120000"


@pytest.fixture
def fake_clock() -> FakeClock:
    """The scenarios' frozen clock: 2024-03-10 12:00 UTC."""
    return FakeClock(FROZEN_NOW)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every socket connection attempted (loopback included) while the test runs."""
    attempts: list[Any] = []
    real = socket.socket.connect

    def record(self: socket.socket, address: Any) -> Any:
        attempts.append(address)
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", record)
    yield attempts


@pytest.fixture
def offline(make_cli: Callable[..., Cli]) -> Cli:
    return make_cli(FakeTelegram(), logged_in=False)


@pytest.fixture
def chat20(tmp_path: Path) -> Path:
    return write_export(tmp_path / "chat20", chat20_export())


def analyze(cli: Cli, *args: str) -> CliResult:
    return cli("analyze", *args, "--json")


def reports(result: CliResult) -> list[dict[str, Any]]:
    assert result.code == 0, result.err
    return list(result.json()["reports"])


def load(path: str) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- scenario 7


def test_scenario_7_chat20_offline_local_analysis(
    offline: Cli, chat20: Path, tmp_path: Path, connections: list[Any]
) -> None:
    out = tmp_path / "reports"
    result = analyze(offline, "chat20", "--source", str(chat20), "--provider", "local",
                     "--out", str(out))  # fmt: skip
    [row] = reports(result)
    assert connections == [] and offline.world.connections == []
    assert not (offline.home / "sessions").exists()  # no session, no lock
    assert set(row["files"]) == {"json", "md", "html"}
    assert row["messages"] == 15
    report = load(row["files"]["json"])
    metrics = report["activity_metrics"]
    assert metrics["total_messages"] == 15
    by_sender = {s["name"]: s["messages"] for s in metrics["messages_by_sender"]}
    assert by_sender == {"Anna": 7, "Boris": 5, "Vera": 3}
    assert metrics["unique_senders"] == 3
    assert metrics["total_reactions"] == 12
    assert metrics["average_length"] == 48.0
    assert metrics["media_percent"] == 20.0
    assert metrics["messages_per_day"] == 5.0
    assert metrics["first_message"] == "2024-03-01T09:00:00Z"
    assert metrics["last_message"] == "2024-03-03T18:00:00Z"
    assert report["llm"] == {
        "provider": "local",
        "model": None,
        "status": "local",
        "prompt": None,
        "prompt_hash": None,
        "anonymized": False,
    }
    assert report["category"] == "Unknown"
    assert report["key_participants"] == [
        {"name": "Anna", "message_count": 7, "engagement_score": 5.0},
        {"name": "Boris", "message_count": 5, "engagement_score": 5.0},
        {"name": "Vera", "message_count": 3, "engagement_score": 5.0},
    ]
    assert report["chat_name"] == "chat20" and report["chat_id"] == CHAT20_MARKED_ID
    assert report["analysis_time"] == "2024-03-10T12:00:00Z"
    assert report["date_range"] == {"start": "2024-03-01T09:00:00Z", "end": "2024-03-03T18:00:00Z"}
    markdown = Path(row["files"]["md"]).read_text(encoding="utf-8")
    assert markdown.startswith("# Chat Analysis Report\n")
    assert "- **Anna** — 7 messages (engagement: 5.0/10)" in markdown
    assert "## Discussions" not in markdown and "## Insights" not in markdown
    html = Path(row["files"]["html"]).read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html


DATE_KEYS = {"date", "start", "end", "since", "until", "analysis_time", "first_message",
             "last_message"}  # fmt: skip


def iso_values(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every string under a date-like key, at any depth."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from iso_values(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from iso_values(item, key)
    elif isinstance(node, str) and key in DATE_KEYS:
        yield key, node


def test_json_report_dates_are_iso_8601_at_every_depth(
    offline: Cli, chat20: Path, tmp_path: Path
) -> None:
    [row] = reports(analyze(offline, "chat20", "--source", str(chat20), "--out", str(tmp_path)))
    found = list(iso_values(load(row["files"]["json"])))
    assert len(found) > 10
    assert {key for key, _ in found} == DATE_KEYS - {"since", "until"} | {"since"}
    for _, value in found:
        datetime.fromisoformat(value.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- scenario 8


def test_scenario_8_media_and_bots_included(offline: Cli, chat20: Path, tmp_path: Path) -> None:
    result = analyze(offline, "chat20", "--source", str(chat20), "--provider", "local",
                     "--include-media", "--include-bots", "--out", str(tmp_path))  # fmt: skip
    [row] = reports(result)
    metrics = load(row["files"]["json"])["activity_metrics"]
    assert metrics["total_messages"] == 19
    assert metrics["media_percent"] == 26.3
    assert {s["name"] for s in metrics["messages_by_sender"]} == {
        "Anna",
        "Boris",
        "Vera",
        "Standup Bot",
    }


# --------------------------------------------------------------------------- scenario 12


SCRIPT = "<script>alert(1)</script>"


def test_scenario_12_file_names_and_a_safe_self_contained_html(
    offline: Cli, tmp_path: Path
) -> None:
    now = FROZEN_NOW
    texts = [
        message(1, now.replace(day=8), ANNA, f"{SCRIPT} is not run here", reactions=[
            {"type": "emoji", "count": 2, "emoji": "❤"}]),
        message(2, now.replace(day=9), ("<b>Eve</b>", "user104"), f"{SCRIPT} again, escaped"),
    ]  # fmt: skip
    cases = {
        "chat@name": (1_800_000_001, "chat_name"),
        "Русский": (1_800_000_002, "Русский"),
        SCRIPT: (1_800_000_003, "script_alert_1_script"),
    }
    for title, (chat_id, slug) in cases.items():
        path = write_export(tmp_path / slug, single_chat(texts, name=title, id=chat_id))
        [row] = reports(analyze(offline, title, "--source", str(path), "--out", str(tmp_path)))
        for kind, file in row["files"].items():
            assert Path(file).name == f"{slug}_-100{chat_id}_{STAMP}.{kind}"
        html = Path(row["files"]["html"]).read_text(encoding="utf-8")
        assert "<svg" in html
        assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
        assert not re.search(r"<(?:script|link|img|iframe|object|embed)\b", html, re.I)
        assert "url(" not in html and "@import" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;b&gt;Eve&lt;/b&gt;" in html
        markdown = Path(row["files"]["md"]).read_text(encoding="utf-8")
        assert SCRIPT not in markdown and "<b>" not in markdown


# --------------------------------------------------------------------------- scenario 14


def test_scenario_14_days_window(offline: Cli, tmp_path: Path) -> None:
    path = write_export(tmp_path / "aged", single_chat(aged_messages(FROZEN_NOW, [1, 5, 10])))
    [row] = reports(analyze(offline, "chat20", "--source", str(path), "--days", "7",
                            "--out", str(tmp_path)))  # fmt: skip
    assert row["messages"] == 2
    assert load(row["files"]["json"])["selection"]["since"] == "2024-03-03T12:00:00Z"
    [everything] = reports(analyze(offline, "chat20", "--source", str(path), "--days", "0",
                                   "--out", str(tmp_path)))  # fmt: skip
    assert everything["messages"] == 3
    [recent] = reports(analyze(offline, "chat20", "--source", str(path), "--since", "2d",
                               "--out", str(tmp_path)))  # fmt: skip
    assert recent["messages"] == 1
    [limited] = reports(analyze(offline, "chat20", "--source", str(path), "--days", "0",
                                "--limit", "2", "--out", str(tmp_path)))  # fmt: skip
    limited_report = load(limited["files"]["json"])
    assert limited_report["date_range"]["start"] == "2024-03-05T12:00:00Z"  # the newest 2


# --------------------------------------------------------------------------- other sources


def test_the_archive_gives_the_same_figures_without_a_session(
    offline: Cli, chat20: Path, tmp_path: Path, connections: list[Any]
) -> None:
    assert offline("import", str(chat20)).code == 0
    [row] = reports(analyze(offline, str(CHAT20_MARKED_ID), "--source", "store",
                            "--provider", "local", "--out", str(tmp_path)))  # fmt: skip
    metrics = load(row["files"]["json"])["activity_metrics"]
    assert (metrics["total_messages"], metrics["total_reactions"]) == (15, 12)
    assert metrics["average_length"] == 48.0 and metrics["media_percent"] == 20.0
    assert connections == [] and not (offline.home / "sessions" / "default.lock").exists()


def test_export_folder_title_and_id_name_the_chat(
    offline: Cli, chat20: Path, tmp_path: Path
) -> None:
    for name in ("CHAT20", "1700000020", str(CHAT20_MARKED_ID)):
        [row] = reports(analyze(offline, name, "--source", str(chat20.parent),
                                "--format", "md", "--out", str(tmp_path)))  # fmt: skip
        assert list(row["files"]) == ["md"]


# --------------------------------------------------------------------------- several chats


def test_several_chats_give_a_report_each_and_an_index(offline: Cli, tmp_path: Path) -> None:
    document = account_export(
        [
            chat20_export(name="Team", id=1_700_000_021),
            single_chat(aged_messages(FROZEN_NOW, [1, 2]), name="Family", id=4242,
                        type="private_group"),
        ]
    )  # fmt: skip
    path = write_export(tmp_path / "account", document)
    out = tmp_path / "out"
    result = analyze(offline, "Team", "Family", "--source", str(path), "--out", str(out))
    rows = reports(result)
    assert [r["chat_name"] for r in rows] == ["Team", "Family"]
    assert [r["messages"] for r in rows] == [15, 2]
    index = result.json()["index"]
    assert set(index) == {"json", "md", "html"}
    assert Path(index["html"]).name == f"index_{STAMP}.html"
    listed = load(index["json"])["reports"]
    assert [r["chat_name"] for r in listed] == ["Team", "Family"]
    assert 'href="Team_-1001700000021_' in Path(index["html"]).read_text(encoding="utf-8")
    assert len(list(out.glob("*.html"))) == 3


def test_exit_codes(offline: Cli, chat20: Path, tmp_path: Path) -> None:
    source = ("--source", str(chat20), "--out", str(tmp_path / "none"))
    nothing = offline("analyze", "chat20", *source, "--min-length", "1000")
    assert nothing.code == 1
    assert "nothing to analyse" in nothing.err
    assert not (tmp_path / "none").exists()
    assert offline("analyze", "no-such-chat", *source).code == 2
    assert offline("analyze", "chat20", "--source", str(tmp_path / "missing.json")).code == 2
    assert offline("analyze", "chat20", *source, "--format", "pdf").code == 2
    assert offline("analyze", "chat20", *source, "--provider", "opnai").code == 2
    assert offline("analyze", "chat20", *source, "--days", "3", "--hours", "2").code == 2
    assert offline("analyze", "chat20", *source, "--since", "yesterday").code == 2


def test_partial_failure_when_one_chat_keeps_nothing(offline: Cli, tmp_path: Path) -> None:
    document = account_export(
        [
            chat20_export(name="Team", id=1_700_000_021),
            single_chat(aged_messages(FROZEN_NOW, [40]), name="Old", id=4243),
        ]
    )
    path = write_export(tmp_path / "account", document)
    result = offline("analyze", "Team", "Old", "--source", str(path), "--out", str(tmp_path))
    assert result.code == 3, result.err
    assert "Old: nothing to analyse" in result.err


def test_a_provider_without_a_key_falls_back_to_local(
    offline: Cli, chat20: Path, tmp_path: Path
) -> None:
    result = offline("analyze", "chat20", "--source", str(chat20), "--provider", "openai",
                     "--out", str(tmp_path))  # fmt: skip
    assert result.code == 0, result.err
    assert "no API key for openai" in result.err
    assert "running the local analysis instead" in result.err
    [report] = [load(str(p)) for p in tmp_path.glob("*.json")]
    assert report["llm"]["provider"] == "local" and report["llm"]["status"] == "local"
    human = result.out
    assert "15 of 20 messages analysed locally" in human
    assert re.search(rf"html\s+\S+chat20_{CHAT20_MARKED_ID}_{STAMP}\.html", human)
