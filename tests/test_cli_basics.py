"""The CLI shell: lazy imports, --json everywhere, one error rendering, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from tgpilot.cli.app import app, run

HEAVY = ("telethon", "sqlalchemy", "openai", "anthropic", "google", "alembic", "aiogram")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["chats", "--help"]])
def test_help_and_version_import_no_heavy_library(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from tgpilot.cli.app import run\n"
        f"rc = run({args!r})\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})\n"
        "print('HEAVY=' + ','.join(heavy))\n"
        "sys.exit(rc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "HEAVY=\n" in done.stdout


def test_version_prints_version(capsys: pytest.CaptureFixture[str]) -> None:
    from tgpilot import __version__

    assert run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tgpilot {__version__}"


def _leaf_commands() -> list[tuple[str, object]]:
    root = typer.main.get_command(app)
    leaves: list[tuple[str, object]] = []

    def walk(cmd: object, path: str) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, f"{path} {name}".strip())
        else:
            leaves.append((path, cmd))

    walk(root, "")
    return leaves


def test_every_command_has_a_json_flag() -> None:
    leaves = _leaf_commands()
    assert len(leaves) >= 8
    missing = [
        path
        for path, cmd in leaves
        if not any("--json" in getattr(p, "opts", []) for p in getattr(cmd, "params", []))
    ]
    assert missing == []


def test_config_error_is_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yml"
    config.write_text("chats:\n  broken: {type: random}\n", encoding="utf-8")
    rc = run(["--config", str(config), "chats", "list"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: ")
    assert "broken" in err and "random" in err
    assert "Traceback" not in err


def test_unknown_option_is_usage_error() -> None:
    assert run(["chats", "list", "--no-such-flag"]) == 2


def test_bad_type_filter_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(["chats", "list", "--type", "user,robot"])
    assert rc == 2
    assert "robot" in capsys.readouterr().err


def test_online_command_without_session_says_login(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_API_ID", "1")
    monkeypatch.setenv("TELEGRAM_API_HASH", "a" * 32)
    rc = run(["chats", "list", "--refresh"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "hint: tgpilot session login" in err


def test_config_paths_json_lists_every_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--json", "config", "paths"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("session_file", "lock_file", "dialog_cache", "audit_log", "db_file"):
        assert key in data
