"""The session lock between real ``tgpilot`` processes (spec telegram-cli §1.4, scenario 5).

Process A runs ``session login`` on a fresh session and sits at the ``Login code:``
prompt holding the lock (its stdin is a pipe nobody writes to). Process B's
``chats list --refresh --lock-wait 1`` gives up after about a second with exit 4,
naming A's pid and command. After ``kill -9`` A, B takes the lock at once; the lock
file is the same inode throughout and ends up holding B's record. (A cache hit while
the lock is held is covered by ``tests/test_chats_list.py``.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from telethon.sessions import SQLiteSession

from tests.fakes.telegram import DEFAULT_DC, FakeTelegram
from tests.harness import API_HASH, API_ID
from tgpilot.core.session_lock import read_holder

REPO = Path(__file__).resolve().parents[1]
PHONE = "+15550001000"


@pytest.fixture
def home() -> Path:
    return Path(os.environ["TGPILOT_HOME"])


@pytest.fixture
def world_file(tmp_path: Path) -> Path:
    world = FakeTelegram()
    world.add_me(1000, "Ada", "Lovelace", username="ada", phone=PHONE)
    alice = world.add_user(1001, "Alice", dialog=True)
    world.add_message(alice, text="hello")
    path = tmp_path / "world.pickle"
    world.save(path)
    return path


def launcher(world: Path, request_log: Path, *tgpilot_args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tests.fakes.telegram.launch",
        "--world",
        str(world),
        "--request-log",
        str(request_log),
        "--",
        *tgpilot_args,
    ]


def environment(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")]),
        "TGPILOT_HOME": str(home),
        "TELEGRAM_API_ID": API_ID,
        "TELEGRAM_API_HASH": API_HASH,
    }


def wait_for(predicate: object, timeout: float, what: str, proc: subprocess.Popen[str]) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"process exited {proc.returncode} before {what}: {out}{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def login_process(home: Path, world_file: Path, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A: ``tgpilot session login`` blocked at the code prompt, holding the lock."""
    log = tmp_path / "a-requests.txt"
    proc = subprocess.Popen(
        launcher(world_file, log, "session", "login", "--phone", PHONE),
        env=environment(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lock = home / "sessions" / "default.lock"

        def holds() -> bool:
            holder = read_holder(lock)
            return holder is not None and holder.pid == proc.pid

        def code_sent() -> bool:
            return log.exists() and "SendCodeRequest" in log.read_text().split()

        wait_for(holds, 30, "A to take the lock", proc)
        wait_for(code_sent, 30, "A to request a login code", proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_second_process_is_refused_then_locks_at_once_after_kill_9(
    home: Path, world_file: Path, tmp_path: Path, login_process: subprocess.Popen[str]
) -> None:
    a = login_process
    lock = home / "sessions" / "default.lock"
    inode = lock.stat().st_ino
    holder = read_holder(lock)
    assert holder is not None
    assert holder.command == f"tgpilot session login --phone {PHONE}"

    b_log = tmp_path / "b-requests.txt"

    def contend(lock_wait: str) -> tuple[subprocess.CompletedProcess[str], float]:
        args = launcher(world_file, b_log, "--lock-wait", lock_wait, "chats", "list", "--refresh")
        started = time.monotonic()
        env = environment(home)
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
        return done, time.monotonic() - started

    # the same refusal without waiting is the baseline: process start-up on a busy machine
    # is not the lock's wait
    _, baseline = contend("0")
    busy, elapsed = contend("1")
    assert busy.returncode == 4, busy.stderr
    assert elapsed >= 0.9, (elapsed, baseline)  # it did wait out --lock-wait 1
    assert elapsed - baseline <= 3.0, (elapsed, baseline)  # and not much longer
    assert f"session busy: held by pid {a.pid} (tgpilot session login" in busy.stderr
    assert "hint: " in busy.stderr and "--lock-wait" in busy.stderr
    assert b_log.read_text() == ""  # B never sent Telegram a request
    assert a.poll() is None  # A still holds on

    os.kill(a.pid, signal.SIGKILL)
    a.wait(timeout=10)
    assert lock.exists()
    assert read_holder(lock) is None  # the kernel dropped A's lock with the process

    # As if A's login had gone through: its auth key (in the session file) is logged in.
    session = SQLiteSession(str(home / "sessions" / "default.session"))
    try:
        assert session.auth_key is not None
        key_id = session.auth_key.key_id
    finally:
        session.close()
    world = FakeTelegram.load(world_file)
    world.authorize_key(key_id, 1000, (DEFAULT_DC[1], DEFAULT_DC[2]))
    world.save(world_file)

    b_args = launcher(world_file, b_log, "--lock-wait", "30", "chats", "list", "--refresh")
    started = time.monotonic()
    again = subprocess.Popen(
        b_args, env=environment(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out, err = again.communicate(timeout=60)
    elapsed = time.monotonic() - started
    assert again.returncode == 0, err
    assert "Alice" in out
    assert "session busy" not in err
    assert elapsed < 10, elapsed  # far below --lock-wait 30: no waiting for the dead holder
    assert "GetDialogsRequest" in b_log.read_text().split()

    assert lock.exists()
    assert lock.stat().st_ino == inode  # never deleted or replaced
    assert read_holder(lock) is None  # B exited: nobody holds it
    record = json.loads(lock.read_text(encoding="utf-8"))
    assert record["pid"] == again.pid  # B's record, left in place on release
    assert record["command"] == "tgpilot --lock-wait 30 chats list --refresh"
