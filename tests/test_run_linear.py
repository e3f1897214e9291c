"""The ``!linear`` listener inside a real ``tgpilot run`` process (spec linear-and-bots.md
§1.4): enabled by ``linear.listener.enabled``, the owner's command in a group becomes one
issue in the fake Linear and a reply with its identifier and URL; another member's does
nothing; without a Linear key ``run`` refuses to start (exit 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.linear import FakeLinear
from tests.run_support import ALICE, ME, TEAM_ID, make_world
from tests.test_run_process import REPO, RunProcess, outgoing, wait_until

KEY = "lin_api_run_test_key"


@pytest.fixture
def linear() -> Iterator[FakeLinear]:
    with FakeLinear(clock=FakeClock()) as server:
        server.workspace.add_team("ENG", "Engineering")
        yield server


def prepare(tmp_path: Path) -> tuple[Path, Path, Path]:
    home = tmp_path / "home"
    (home / "sessions").mkdir(parents=True)
    world = make_world()
    world.authorize_session_file(home / "sessions" / "default.session")
    world_file = tmp_path / "world.pickle"
    world.save(world_file)
    config = tmp_path / "config.yml"
    config.write_text(
        """
linear:
  team: ENG
  listener: {enabled: true}
run: {shutdown_timeout_s: 10}
""",
        encoding="utf-8",
    )
    return home, world_file, config


def test_the_owners_command_in_run_creates_one_issue_and_replies(
    tmp_path: Path, linear: FakeLinear, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINEAR_API_KEY", KEY)
    monkeypatch.setenv("TGPILOT_LINEAR__API_URL", linear.url)
    home, world_file, config = prepare(tmp_path)
    run = RunProcess(home, world_file, config)
    try:
        run.wait_for_line("linear: listening for !linear")
        run.send(TEAM_ID, "!linear Fix login | Users see a 500 after the update", sender=ALICE)
        run.send(TEAM_ID, "!linear Fix login | Users see a 500 after the update", sender=ME)
        wait_until(lambda: len(linear.workspace.issues_of("ENG")) == 1)
        [issue] = linear.workspace.issues_of("ENG")
        assert issue.title == "Fix login"
        assert issue.description == "Users see a 500 after the update"
        wait_until(
            lambda: any(issue.identifier in text for _, text, _ in outgoing(run.world(), TEAM_ID))
        )
        sent = outgoing(run.world(), TEAM_ID)  # the owner's command, then the reply
        [(command_id, _, _), (_, reply, reply_to)] = sent
        assert reply == f"{issue.identifier} {issue.url}"
        assert reply_to == command_id
    finally:
        code = run.stop(signal.SIGTERM)
    assert code == 0, run.seen
    assert len(linear.requests_of("IssueCreate")) == 1
    assert not any(KEY in line for line in run.seen)


def test_run_without_a_linear_key_refuses_to_start(tmp_path: Path) -> None:
    home, world_file, config = prepare(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINEAR_", "TGPILOT_"))}
    env.update(
        PYTHONPATH=f"{REPO}:{REPO / 'src'}",
        TGPILOT_HOME=str(home),
        TELEGRAM_API_ID="1",
        TELEGRAM_API_HASH="a" * 32,
    )
    command = [sys.executable, "-m", "tests.fakes.telegram.launch", "--world", str(world_file)]
    command += ["--", "--config", str(config), "run"]
    proc = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 2, proc.stderr
    assert "LINEAR_API_KEY" in proc.stderr
