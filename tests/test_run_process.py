"""``tgpilot run`` as a real process on the fake Telegram: SIGTERM finishes the reply in
flight and exits 0; ``kill -9`` mid-stream and a restart answer no message twice; the
systemd unit it prints."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.llm.replies import Reply
from tests.fakes.llm.server import FakeLLMServer
from tests.fakes.telegram import FakeTelegram
from tests.process_support import FollowedProcess
from tests.run_support import ALICE, BOB, TEAM_ID, make_world
from tgpilot.core.session_lock import read_holder

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


class RunProcess(FollowedProcess):
    """``tgpilot run`` in a subprocess over a persisted world, fed through an inbox."""

    def __init__(self, home: Path, world_file: Path, config: Path) -> None:
        self.home = home
        self.world_file = world_file
        self.inbox = home.parent / "inbox"
        env = dict(os.environ)
        env.update(
            PYTHONPATH=f"{REPO}:{REPO / 'src'}",
            TGPILOT_HOME=str(home),
            TELEGRAM_API_ID="1",
            TELEGRAM_API_HASH="a" * 32,
        )
        command = [sys.executable, "-m", "tests.fakes.telegram.launch", "--world", str(world_file)]
        command += ["--inbox", str(self.inbox), "--persist", "--", "--config", str(config), "run"]
        super().__init__(command, cwd=REPO, env=env)

    def wait_for_line(self, fragment: str, timeout: float = 40) -> None:
        self.wait_for(re.escape(fragment), timeout)

    def send(self, chat: int, text: str, sender: int | None = None) -> None:
        """Add an incoming message inside the running process."""
        self.inbox.mkdir(exist_ok=True)
        item = self.inbox / f"{time.monotonic_ns()}.tmp"
        order = {"add": {"chat": chat, "text": text, "sender": sender}}
        item.write_text(json.dumps(order), encoding="utf-8")
        item.rename(item.with_suffix(".json"))

    def world(self) -> FakeTelegram:
        return FakeTelegram.load(self.world_file)


def wait_until(condition: object, timeout: float = 40) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def outgoing(world: FakeTelegram, chat: int) -> list[tuple[int, str, int | None]]:
    return [(m.id, m.text, m.reply_to) for m in reversed(world.history(chat)) if m.out]


@pytest.fixture
def setup(tmp_path: Path, llm: FakeLLMServer) -> tuple[Path, Path, Path]:
    home = tmp_path / "home"
    (home / "sessions").mkdir(parents=True)
    world = make_world()
    world.authorize_session_file(home / "sessions" / "default.session")
    world_file = tmp_path / "world.pickle"
    world.save(world_file)
    config = tmp_path / "config.yml"
    config.write_text(
        f"""
llm: {{provider: openai, model: gpt-4o-mini, base_url: "{llm.openai_url}", max_retries: 1}}
autoanswer:
  mode: auto
  working_hours: null
  debounce_s: 0.2
  cooldown_s: 0
  edit_interval_s: 0.3
run:
  shutdown_timeout_s: 20
  handlers:
    - {{kind: export, chat: "@team_chat", out: team.jsonl}}
    - {{kind: moderate, chat: "@team_chat", warn: true}}
""",
        encoding="utf-8",
    )
    return home, world_file, config


def test_sigterm_finishes_the_reply_in_flight_releases_the_lock_and_exits_0(
    setup: tuple[Path, Path, Path], llm: FakeLLMServer
) -> None:
    home, world_file, config = setup
    deltas = [f"кусок{n} " for n in range(10)]
    llm.script(Reply.stream(deltas, delay=0.2))
    run = RunProcess(home, world_file, config)
    run.wait_for_line("running; handlers: autoanswer, moderate, export")
    assert read_holder(home / "sessions" / "default.lock") is not None
    run.send(TEAM_ID, "Регистрируйся на bybit, бонус до 1000 usdt", sender=BOB)
    run.wait_for_line("would warn Bob")  # moderation.apply is off: a dry run
    exported = home / "team.jsonl"
    wait_until(lambda: exported.exists() and "bybit" in exported.read_text(encoding="utf-8"))
    run.send(ALICE, "Как дела?")
    wait_until(lambda: len(llm.requests_to("/chat/completions")) == 1)
    assert run.stop(signal.SIGTERM) == 0, run.seen
    assert any("stopping" in line for line in run.seen)
    [(_id, text, _reply_to)] = outgoing(run.world(), ALICE)
    assert text == "".join(deltas).strip()
    assert read_holder(home / "sessions" / "default.lock") is None


def test_kill_9_mid_stream_then_restart_answers_no_message_twice(
    setup: tuple[Path, Path, Path], llm: FakeLLMServer
) -> None:
    home, world_file, config = setup
    llm.script(
        Reply.stream([f"долгий{n} " for n in range(40)], delay=0.2),
        Reply.stream(["Ответ ", "после ", "перезапуска."]),
    )
    first = RunProcess(home, world_file, config)
    first.wait_for_line("running")
    first.send(ALICE, "Ты где?")
    wait_until(lambda: len(outgoing(first.world(), ALICE)) == 1)
    time.sleep(1.0)  # a few edits into the stream
    first.proc.kill()
    first.proc.wait(timeout=10)
    [(placeholder, partial, source)] = outgoing(first.world(), ALICE)
    assert partial.startswith(("…", "долгий0"))
    second = RunProcess(home, world_file, config)
    second.wait_for_line("running")
    wait_until(lambda: outgoing(second.world(), ALICE)[-1][1] == "Ответ после перезапуска.")
    time.sleep(0.5)
    assert second.stop() == 0, second.seen
    assert outgoing(second.world(), ALICE) == [(placeholder, "Ответ после перезапуска.", source)]
    requests = llm.requests_to("/chat/completions")
    assert len(requests) == 2
    assert [json.dumps(r.json, ensure_ascii=False).count("Ты где?") for r in requests] == [1, 1]
    with sqlite3.connect(home / "tgpilot.db") as db:
        rows = db.execute("SELECT state, placeholder_id FROM autoanswer_replies").fetchall()
    assert rows == [("sent", placeholder)]
    audit = [json.loads(x) for x in (home / "audit.jsonl").read_text().splitlines()]
    assert [(a["action"], a["result"]) for a in audit] == [("telegram.autoanswer.reply", "ok")]


def test_the_systemd_unit_runs_this_tgpilot_from_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tgpilot.cli.app import run

    home = tmp_path / "tgpilot-home"
    config = tmp_path / "conf" / "config.yml"
    config.parent.mkdir()
    config.write_text("run: {shutdown_timeout_s: 45}\n", encoding="utf-8")
    assert run(["--config", str(config), "--account", "work", "run", "--print-systemd-unit"]) == 0
    unit = capsys.readouterr().out
    lines = unit.splitlines()
    exec_start = next(x for x in lines if x.startswith("ExecStart="))
    executable = exec_start.removeprefix("ExecStart=").split()[0]
    assert Path(executable).is_absolute() and Path(executable).name == "tgpilot"
    assert exec_start.endswith(f"--config {config} --account work run")
    assert f"WorkingDirectory={home}" in lines
    assert f"Environment=TGPILOT_HOME={home}" in lines
    assert f"EnvironmentFile=-{home / '.env'}" in lines
    for line in ("Restart=on-failure", "KillSignal=SIGTERM", "TimeoutStopSec=60"):
        assert line in lines
    assert lines[0] == "[Unit]" and "[Service]" in lines and "[Install]" in lines

    assert run(["--config", str(config), "run", "--print-systemd-unit", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unit"].startswith("[Unit]\n")
