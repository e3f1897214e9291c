"""``config check`` / ``config paths`` reports: fields, file checks, exit codes (spec §1.1)."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tgpilot.core.config import ConfigOptions, inspect_config, load_config
from tgpilot.core.paths import Paths
from tgpilot.services.config_report import (
    CheckRow,
    ConfigReport,
    check_config,
    paths_report,
)

API_HASH = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def env(tmp_path: Path, home: Path) -> dict[str, str]:
    """Credentials in the process env; a private home and data dir."""
    return {
        "HOME": str(tmp_path / "user"),
        "TGPILOT_HOME": str(home),
        "TELEGRAM_API_ID": "4242",
        "TELEGRAM_API_HASH": API_HASH,
    }


@pytest.fixture
def session(home: Path) -> Path:
    paths = Paths(home, "default")
    paths.ensure_private_dirs()
    paths.session_file.write_bytes(b"")
    paths.session_file.chmod(0o600)
    return paths.session_file


def run_check(
    options: ConfigOptions, environ: dict[str, str], *, paths_only: bool = False
) -> ConfigReport:
    """Run the async service (it does its file work in a thread)."""
    return asyncio.run(check_config(options, environ, paths_only=paths_only))


def check_named(checks: tuple[CheckRow, ...], name: str) -> CheckRow:
    found = [c for c in checks if c.name == name]
    assert found, name
    return found[0]


def test_scenario_2_env_file_alone_exits_0(
    clean_environment: Path, tmp_path: Path, home: Path, session: Path
) -> None:
    (clean_environment / ".env").write_text(
        f"TELEGRAM_API_ID=4242\nTELEGRAM_API_HASH={API_HASH}\n", encoding="utf-8"
    )
    report = run_check(ConfigOptions(), {"TGPILOT_HOME": str(home)})
    assert report.exit_code == 0, report.problems
    data = report.to_json()
    assert data["valid"] is True
    assert data["config_file"] == "(none)"
    assert data["env_file"] == str(clean_environment / ".env")
    fields = {f["path"]: f for f in data["fields"]}
    assert fields["telegram.api_id"]["source"] == ".env"
    assert fields["telegram.api_hash"]["value"] == "set (32 chars)"
    assert API_HASH not in json.dumps(data)
    assert check_named(report.checks, "session file").status == "ok"
    assert check_named(report.checks, "session lock").value == "free"


def test_missing_credentials_exit_2(tmp_path: Path, home: Path) -> None:
    report = run_check(ConfigOptions(), {"TGPILOT_HOME": str(home)})
    assert report.exit_code == 2
    assert "telegram.api_id: missing — set TGPILOT_TELEGRAM__API_ID or TELEGRAM_API_ID" in (
        report.problems
    )
    assert any(w.startswith("session file") for w in report.warnings)  # no session yet


def test_broken_alias_exit_2(clean_environment: Path, env: dict[str, str]) -> None:
    (clean_environment / "config.yml").write_text(
        "chats:\n  news: {username: example_news}\n  broken: {type: random}\n", encoding="utf-8"
    )
    report = run_check(ConfigOptions(), env)
    assert report.exit_code == 2
    assert len(report.problems) == 1
    assert "broken" in report.problems[0] and "random" in report.problems[0]
    aliases = check_named(report.checks, "chat aliases")
    assert aliases.value == "2 defined, invalid: broken"


def test_session_file_mode(env: dict[str, str], session: Path) -> None:
    session.chmod(0o644)
    report = run_check(ConfigOptions(), env)
    assert report.exit_code == 2
    assert report.problems == (
        f"session file {session} has mode 0644, expected 0600 — run chmod 600 {session}",
    )
    session.chmod(0o600)
    assert (run_check(ConfigOptions(), env)).exit_code == 0


@pytest.fixture
def held_lock(home: Path, session: Path) -> Iterator[Path]:
    """The account lock held by this process, with a holder record written into it."""
    lock = Paths(home, "default").lock_file
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        record = {
            "pid": os.getpid(),
            "command": "tgpilot export team",
            "started_at": "2025-01-02T03:04:05Z",
        }
        os.write(fd, json.dumps(record).encode())
        yield lock
    finally:
        os.close(fd)


def test_lock_holder_is_read_without_taking_the_lock(env: dict[str, str], held_lock: Path) -> None:
    report = run_check(ConfigOptions(), env)
    lock_row = check_named(report.checks, "session lock")
    assert lock_row.value == (
        f"held by pid {os.getpid()} (tgpilot export team) since 2025-01-02T03:04:05Z"
    )
    assert report.exit_code == 0


def test_unreadable_rsa_key_is_a_problem(
    clean_environment: Path, env: dict[str, str], session: Path
) -> None:
    (clean_environment / "config.yml").write_text(
        "telegram:\n  server: {dc_id: 2, address: 203.0.113.10, rsa_key_file: k.pem}\n",
        encoding="utf-8",
    )
    report = run_check(ConfigOptions(), env)
    assert report.exit_code == 2
    assert report.problems[0].startswith(
        f"telegram.server.rsa_key_file: cannot read {clean_environment / 'k.pem'}"
    )
    (clean_environment / "k.pem").write_text("-----BEGIN RSA PUBLIC KEY-----\n", encoding="utf-8")
    assert (run_check(ConfigOptions(), env)).exit_code == 0


def test_paths_only_needs_no_credentials(home: Path) -> None:
    report = run_check(ConfigOptions(account="work"), {"TGPILOT_HOME": str(home)}, paths_only=True)
    assert report.exit_code == 0
    assert report.checks == ()
    assert report.paths["session_file"] == str(home / "sessions" / "work.session")


def test_paths_report(env: dict[str, str], home: Path) -> None:
    config = load_config(ConfigOptions(account="work"), env)
    report = paths_report(config)
    assert report["config_file"] == "(none)"
    assert report["env_file"] == "(none)"
    assert report["home"] == str(home)
    assert report["lock_file"] == str(home / "sessions" / "work.lock")
    assert report["server_file"] == str(home / "sessions" / "work.server.json")
    assert report["dialog_cache"] == str(home / "cache" / "dialogs-work.json")
    assert report["audit_log"] == str(home / "audit.jsonl")
    assert report["db_file"] == str(home / "tgpilot.db")
    assert report["exports"] == "exports"
    assert report["store"] == f"sqlite:///{home / 'tgpilot.db'}"
    # An invalid configuration still has paths.
    broken = inspect_config(ConfigOptions(), env | {"TGPILOT_FLOOD__MAX_WAIT": "x"})
    assert paths_report(broken)["session_file"] == str(home / "sessions" / "default.session")


# --------------------------------------------------------------------------- LLM endpoint


def test_llm_endpoint_is_the_official_one_and_a_missing_key_is_named(
    clean_environment: Path, env: dict[str, str], session: Path
) -> None:
    report = run_check(ConfigOptions(), env)
    row = check_named(report.checks, "llm endpoint")
    assert row.value == (
        "openai gpt-4o-mini → https://api.openai.com/v1 (official endpoint); key missing"
    )
    assert row.status == "warning"
    assert "llm: no API key for openai — set OPENAI_API_KEY" in row.message
    assert report.exit_code == 0  # AI commands fall back to local mode: not a problem

    key = "sk-live-0123456789abcdef"
    with_key = run_check(ConfigOptions(), env | {"OPENAI_API_KEY": key})
    row = check_named(with_key.checks, "llm endpoint")
    assert row.status == "ok" and row.value.endswith("(official endpoint); key from OPENAI_API_KEY")
    assert key not in json.dumps(with_key.to_json())


def test_llm_endpoint_on_loopback_needs_no_key_and_commands_are_named(
    clean_environment: Path, env: dict[str, str], session: Path
) -> None:
    (clean_environment / "config.yml").write_text(
        "llm:\n  base_url: http://localhost:11434/v1\n  model: llama3.1:8b\n"
        "  commands:\n    digest: {provider: anthropic}\n    crm: {model: llama3.1:8b}\n",
        encoding="utf-8",
    )
    report = run_check(ConfigOptions(), env)
    row = check_named(report.checks, "llm endpoint")
    assert row.value == "openai llama3.1:8b → http://localhost:11434/v1 (local, no key needed)"
    assert row.status == "ok"
    digest = check_named(report.checks, "llm endpoint (digest)")
    assert digest.value.startswith("anthropic ") and "localhost:11434" in digest.value
    assert [c.name for c in report.checks if c.name.startswith("llm endpoint (")] == [
        "llm endpoint (digest)"
    ]  # crm sends where llm does: not repeated


def test_llm_endpoint_of_the_local_provider_sends_nothing(
    clean_environment: Path, env: dict[str, str], session: Path
) -> None:
    report = run_check(ConfigOptions(), env | {"TGPILOT_LLM__PROVIDER": "local"})
    row = check_named(report.checks, "llm endpoint")
    assert row.value == "local: no model, chat content stays on this machine"
    assert row.status == "ok"


def test_embeddings_and_the_speech_endpoint_are_named_without_warnings(
    clean_environment: Path, env: dict[str, str], session: Path
) -> None:
    report = run_check(ConfigOptions(), env | {"TGPILOT_EMBEDDINGS__PROVIDER": "hash"})
    assert check_named(report.checks, "embeddings").value == (
        "hash hash-256 (computed locally, offline)"
    )
    speech = check_named(report.checks, "speech endpoint")
    assert speech.status == "ok" and speech.value.startswith("unavailable (opt-in): ")
    assert "OPENAI_API_KEY" in speech.value

    yandex = {"TGPILOT_SPEECH__PROVIDER": "yandex", "YANDEX_API_KEY": "yc-secret-123456"}
    report = run_check(ConfigOptions(), env | yandex)
    speech = check_named(report.checks, "speech endpoint")
    assert "YANDEX_FOLDER_ID" in speech.value and speech.status == "ok"
    report = run_check(ConfigOptions(), env | yandex | {"YANDEX_FOLDER_ID": "b1g0"})
    speech = check_named(report.checks, "speech endpoint")
    assert speech.value.startswith("yandex https://stt.api.cloud.yandex.net/")
    assert speech.value.endswith("; key from YANDEX_API_KEY")
    assert "yc-secret-123456" not in json.dumps(report.to_json())
