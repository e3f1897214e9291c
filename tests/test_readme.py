"""README "Two commands": both commands are what the README says, and both work.

The section must show exactly two fenced ``bash`` blocks, ``./scripts/demo`` and
``./.ci/run``. ``.ci/run`` is checked by running it with a stand-in ``uv`` that records
each call (so no install happens) — the steps, their order and pytest's exit 5 (no
tests) turning into a failure. The demo's main job runs end to end on the sample
account with this interpreter (``TGPILOT_DEMO_SKIP_INSTALL=1``), offline.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DEMO = REPO / "scripts" / "demo"
CI_RUN = REPO / ".ci" / "run"


def two_commands_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Two commands\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Two commands' section"
    return match.group(1)


def bash_blocks(section: str) -> list[str]:
    return [b.strip() for b in re.findall(r"^```bash\n(.*?)^```", section, re.M | re.S)]


def test_the_two_commands_are_the_demo_and_ci() -> None:
    assert bash_blocks(two_commands_section()) == ["./scripts/demo", "./.ci/run"]


@pytest.mark.parametrize("path", [DEMO, CI_RUN], ids=["scripts/demo", ".ci/run"])
def test_both_commands_exist_and_are_executable(path: Path) -> None:
    assert path.is_file()
    assert path.stat().st_mode & stat.S_IXUSR
    assert path.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in path.read_text(encoding="utf-8")


FAKE_UV = """#!/usr/bin/env bash
echo "$*" >>"$FAKE_UV_LOG"
case "$*" in
    *pytest*) exit "${FAKE_PYTEST_EXIT:-0}" ;;
esac
exit 0
"""


def run_ci(tmp_path: Path, pytest_exit: int, *args: str) -> tuple[int, list[str]]:
    """Run ``.ci/run`` with a recording ``uv``; pytest exits ``pytest_exit``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    uv = bin_dir / "uv"
    uv.write_text(FAKE_UV, encoding="utf-8")
    uv.chmod(0o755)
    log = tmp_path / f"uv-{pytest_exit}.log"
    env = dict(os.environ)
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        FAKE_UV_LOG=str(log),
        FAKE_PYTEST_EXIT=str(pytest_exit),
    )
    proc = subprocess.run(
        ["bash", str(CI_RUN), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return proc.returncode, calls


def test_ci_run_syncs_the_lock_then_lints_formats_types_and_tests(tmp_path: Path) -> None:
    code, calls = run_ci(tmp_path, 0, "-k", "resolver", "-x")
    assert code == 0
    # the graph-RAG extra (lightrag-hku) is installed so its tests run; the heavy
    # local-embeddings extra (torch) is not
    assert calls[0] == "sync --locked --extra graph"
    wanted = ["ruff check", "ruff format --check", "mypy src", "pytest -k resolver -x"]
    positions = []
    for step in wanted:
        found = [i for i, call in enumerate(calls) if call.endswith(step)]
        assert found, f".ci/run never runs {step!r}: {calls}"
        positions.append(found[0])
    assert positions == sorted(positions)
    assert all("--no-sync" in call for call in calls[1:]), calls


@pytest.mark.parametrize(("pytest_exit", "expected"), [(5, 1), (1, 1), (3, 3)])
def test_ci_run_fails_when_pytest_fails_or_collects_nothing(
    tmp_path: Path, pytest_exit: int, expected: int
) -> None:
    code, calls = run_ci(tmp_path, pytest_exit)
    assert any(call.endswith("pytest") for call in calls)
    assert code == expected


def test_ci_run_text_names_each_step() -> None:
    text = CI_RUN.read_text(encoding="utf-8")
    for step in ("uv sync --locked", "ruff check", "ruff format --check", "mypy src", "pytest"):
        assert step in text


def test_demo_main_job_runs_end_to_end_offline(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        TGPILOT_DEMO_SKIP_INSTALL="1",
        TGPILOT_DEMO_PYTHON=sys.executable,
        TMPDIR=str(tmp_path),
        # the demo must ignore the caller's account settings
        TGPILOT_TELEGRAM__API_ID="999",
        TELEGRAM_API_HASH="caller-secret",
    )
    env.pop("COLUMNS", None)
    proc = subprocess.run(
        [str(DEMO)],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    from sample.build_world import CLUB_TITLE, NEWS_TITLE

    for banner in (
        "==> tgpilot config check",
        "==> tgpilot session status",
        "==> tgpilot chats list",
        "==> tgpilot chats list --type channel,supergroup --format yaml",
        "==> tgpilot chats resolve club",
        "==> tgpilot chats resolve news",
        "==> tgpilot chats resolve --title-contains Falcon",
        "==> tgpilot --json chats list --limit 3",
    ):
        assert banner in proc.stdout, banner
    assert CLUB_TITLE in proc.stdout and NEWS_TITLE in proc.stdout
    assert "Team Falcon" in proc.stdout
    assert "(from Telegram)" in output and "(from cache)" in output
    assert "Demo Pilot (@demo_pilot" in proc.stdout
    assert re.search(r"telegram\.api_id\W+12345\b", proc.stdout)  # the demo's, not the caller's
    assert "caller-secret" not in output
    assert "error:" not in output
    assert not list(tmp_path.glob("tgpilot-demo.*")), "the temporary home was left behind"
    assert "==> tgpilot analyze Demo Reading Club: книги и кофе --source" in proc.stdout
    shown = re.search(r"open the chat analysis report \(kept\): (\S+\.html)$", proc.stdout, re.M)
    assert shown, "the demo does not say where the HTML report is"
    report = Path(shown.group(1))
    assert report.is_file() and report.parent.parent == tmp_path
    assert "<svg" in report.read_text(encoding="utf-8")
    assert {p.suffix for p in report.parent.iterdir()} == {".json", ".md", ".html"}
