"""``tgpilot send``: one explicit message, applied at once, audited; --dry-run sends nothing
(spec telegram-cli §4.4, scenario 30)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import API_HASH, Cli

OPS = -1001234567890
CONFIG = "chats:\n  ops: {id: 1234567890, type: supergroup}\n"


def ops_world() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice", username="alice_smith", dialog=True)
    ops = world.add_supergroup(1234567890, "Ops", members=[alice])
    world.add_message(ops, 41, text="deploy?", date=datetime(2025, 1, 2, tzinfo=UTC), sender=alice)
    world.add_channel(555, "Example News", "example_news")
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli], clean_environment: Path) -> Cli:
    (clean_environment / "config.yml").write_text(CONFIG, encoding="utf-8")
    return make_cli(ops_world())


def audit_lines(cli: Cli) -> list[dict[str, object]]:
    path = cli.home / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_send_reply_silent_to_a_supergroup_is_audited(cli: Cli) -> None:
    result = cli("send", "ops", "Hi", "--reply-to", "41", "--silent", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert (data["reply_to"], data["silent"], data["chat"]["id"]) == (41, True, OPS)
    sent = cli.world.message(OPS, data["message_id"])
    assert (sent.text, sent.reply_to, sent.silent, sent.out) == ("Hi", 41, True, True)
    assert cli.world.requests["SendMessageRequest"] == 1
    (line,) = audit_lines(cli)
    assert (line["action"], line["result"], line["chat_id"]) == ("telegram.send", "ok", OPS)
    assert line["message_id"] == data["message_id"]
    assert "Hi" not in json.dumps(line["params"]) and API_HASH not in json.dumps(line)


def test_human_output_and_links_as_reply_targets(cli: Cli) -> None:
    result = cli("send", "ops", "Hello", "--reply-to", "https://t.me/c/1234567890/41")
    assert result.code == 0, result.err
    assert result.out.startswith("sent #") and result.out.strip().endswith("to Ops")


def test_dry_run_sends_nothing(cli: Cli) -> None:
    result = cli("send", "ops", "x" * 300, "--reply-to", "41", "--dry-run")
    assert result.code == 0, result.err
    assert "would send to Ops" in result.out and "replying to #41" in result.out
    assert ("x" * 200 + "…") in result.out
    assert cli.world.requests["SendMessageRequest"] == 0
    assert audit_lines(cli) == []


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_text_is_a_usage_error_before_connecting(cli: Cli, text: str) -> None:
    result = cli("send", "ops", text)
    assert result.code == 2
    assert "blank" in result.err
    assert cli.world.connections == []


def test_text_from_stdin_and_from_a_file(cli: Cli, tmp_path: Path) -> None:
    assert cli("send", "@alice_smith", "-", stdin="from stdin\n").code == 0
    message_file = tmp_path / "note.txt"
    message_file.write_text("from a file", encoding="utf-8")
    assert cli("send", "1001", "--file", str(message_file)).code == 0
    texts = [m.text for m in cli.world.history(1001)]
    assert texts[:2] == ["from a file", "from stdin\n"]


def test_refused_send_is_audited_as_failed(cli: Cli) -> None:
    result = cli("send", "example_news", "Hi")
    assert result.code == 1
    assert "CHAT_WRITE_FORBIDDEN" in result.err
    (line,) = audit_lines(cli)
    assert line["result"] == "failed"


def test_bad_reply_target_and_missing_text(cli: Cli) -> None:
    assert cli("send", "ops", "Hi", "--reply-to", "abc").code == 2
    assert cli("send", "ops").code == 2
