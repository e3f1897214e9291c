"""The account session lock (DESIGN "The account session", spec §1.4 and scenario 5)."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tgpilot.core.errors import EXIT_BUSY, SessionBusy
from tgpilot.core.session_lock import LockHolder, SessionLock, read_holder

CONTENDER = Path(__file__).with_name("lock_contender.py")
T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass
class FakeClock:
    """A clock whose sleeps cost no real time; ``on_sleep`` runs after each sleep."""

    at: datetime = T0
    mono: float = 1000.0
    sleeps: list[float] = field(default_factory=list)
    on_sleep: Callable[[int], None] | None = None

    def now(self) -> datetime:
        return self.at + timedelta(seconds=self.mono - 1000.0)

    def monotonic(self) -> float:
        return self.mono

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.mono += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return tmp_path / "home" / "sessions" / "main.lock"


def _record(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text())
    return data


# -- holder record ---------------------------------------------------------------------


def test_describe_format() -> None:
    holder = LockHolder(pid=4242, command="tgpilot export team", started_at=T0)
    assert holder.describe() == "pid 4242 (tgpilot export team) since 2025-01-02T03:04:05Z"


async def test_holder_record_written_and_readable(lock_path: Path) -> None:
    lock = SessionLock(lock_path, "tgpilot export team", clock=FakeClock())
    await lock.acquire(0)
    try:
        assert lock.held
        assert lock.wait_seconds == 0
        assert _record(lock_path) == {
            "pid": os.getpid(),
            "command": "tgpilot export team",
            "started_at": "2025-01-02T03:04:05Z",
        }
        holder = read_holder(lock_path)
        assert holder == LockHolder(os.getpid(), "tgpilot export team", T0)
        assert lock.holder == holder
    finally:
        lock.release()
    assert not lock.held


async def test_read_holder_free_lock_with_stale_content_is_none(lock_path: Path) -> None:
    async with SessionLock(lock_path, "tgpilot chats list"):
        pass
    # The record stays (the file is never deleted nor emptied), but nobody holds it.
    assert lock_path.exists()
    assert _record(lock_path)["pid"] == os.getpid()
    assert read_holder(lock_path) is None
    # A stale record naming another process is just as stale.
    lock_path.write_text('{"pid": 1, "command": "x", "started_at": "2025-01-02T03:04:05Z"}')
    assert read_holder(lock_path) is None


def test_read_holder_missing_file_is_none(tmp_path: Path) -> None:
    assert read_holder(tmp_path / "nope.lock") is None
    assert not (tmp_path / "nope.lock").exists()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"pid": 42, "comm',
        b"\xff\xfe garbage",
        b"[1, 2]",
        b'{"pid": "42", "command": "x", "started_at": "2025-01-02T03:04:05Z"}',
        b'{"pid": true, "command": "x", "started_at": "2025-01-02T03:04:05Z"}',
        b'{"pid": 42, "command": "x", "started_at": "yesterday"}',
        b'{"pid": 42, "started_at": "2025-01-02T03:04:05Z"}',
    ],
)
async def test_held_lock_with_unreadable_record(lock_path: Path, content: bytes) -> None:
    lock_path.parent.mkdir(parents=True)
    lock_path.write_bytes(content)
    fd = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert read_holder(lock_path) is None
        with pytest.raises(SessionBusy) as err:
            await SessionLock(lock_path, "b", clock=FakeClock()).acquire(0)
        assert err.value.holder == f"another process (lock {lock_path})"
        assert lock_path.read_bytes() == content  # a contender never truncates
    finally:
        os.close(fd)


# -- contention in one process ---------------------------------------------------------


async def test_contention_in_process_fake_clock(lock_path: Path) -> None:
    first = SessionLock(lock_path, "tgpilot export team", clock=FakeClock())
    await first.acquire(0)
    record = lock_path.read_bytes()
    clock = FakeClock(mono=50.0)
    second = SessionLock(lock_path, "tgpilot chats list --refresh", clock=clock)
    real_start = time.monotonic()
    with pytest.raises(SessionBusy) as err:
        await second.acquire(1.0)
    assert time.monotonic() - real_start < 0.5  # the wait cost no real time
    assert clock.sleeps == [0.25, 0.25, 0.25, 0.25]
    assert clock.mono == 51.0
    assert second.wait_seconds == 1.0
    assert not second.held
    assert str(err.value) == (
        f"session busy: held by pid {os.getpid()} (tgpilot export team) since 2025-01-02T03:04:05Z"
    )
    assert err.value.exit_code == EXIT_BUSY == 4
    assert err.value.hint is not None
    assert lock_path.read_bytes() == record  # the loser left the holder's record alone
    assert first.held
    first.release()
    await second.acquire(0)  # the failed attempt left no state behind
    assert _record(lock_path)["command"] == "tgpilot chats list --refresh"
    second.release()


async def test_wait_zero_tries_once(lock_path: Path) -> None:
    async with SessionLock(lock_path, "a"):
        clock = FakeClock()
        with pytest.raises(SessionBusy):
            await SessionLock(lock_path, "b", clock=clock).acquire(0)
        assert clock.sleeps == []


async def test_odd_wait_ends_exactly_at_deadline(lock_path: Path) -> None:
    async with SessionLock(lock_path, "a"):
        clock = FakeClock()
        with pytest.raises(SessionBusy):
            await SessionLock(lock_path, "b", clock=clock).acquire(0.6)
        assert clock.sleeps == pytest.approx([0.25, 0.25, 0.1])


async def test_acquires_once_holder_releases_during_wait(lock_path: Path) -> None:
    first = SessionLock(lock_path, "first")
    await first.acquire(0)

    def release_after_second_sleep(count: int) -> None:
        if count == 2:
            first.release()

    clock = FakeClock(on_sleep=release_after_second_sleep)
    second = SessionLock(lock_path, "second", clock=clock)
    await second.acquire(10)
    assert second.held
    assert second.wait_seconds == 0.5
    assert clock.sleeps == [0.25, 0.25]
    holder = read_holder(lock_path)
    assert holder is not None
    assert holder.command == "second"
    second.release()


async def test_not_reentrant(lock_path: Path) -> None:
    lock = SessionLock(lock_path, "a")
    await lock.acquire(0)
    with pytest.raises(RuntimeError, match="already held"):
        await lock.acquire(0)
    assert lock.held
    lock.release()
    lock.release()  # releasing a free lock does nothing
    await lock.acquire(0)  # the same object may take it again once released
    lock.release()


async def test_acquire_while_same_object_waits_is_an_error(lock_path: Path) -> None:
    async with SessionLock(lock_path, "holder"):
        waiter = SessionLock(lock_path, "waiter")
        task = asyncio.create_task(waiter.acquire(5))
        await asyncio.sleep(0.05)
        with pytest.raises(RuntimeError):
            await waiter.acquire(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not waiter.held
    await waiter.acquire(0)  # cancellation left it reusable
    waiter.release()


async def test_negative_wait_rejected(lock_path: Path) -> None:
    with pytest.raises(ValueError):
        await SessionLock(lock_path, "a").acquire(-1)
    with pytest.raises(ValueError):
        await SessionLock(lock_path, "a").acquire(float("nan"))


async def test_context_manager(lock_path: Path) -> None:
    async with SessionLock(lock_path, "a") as lock:
        assert lock.held
        assert read_holder(lock_path) is not None
    assert not lock.held
    assert read_holder(lock_path) is None
    assert lock_path.exists()


# -- files and descriptors -------------------------------------------------------------


async def test_file_0600_dir_0700(tmp_path: Path) -> None:
    path = tmp_path / "new" / "sessions" / "main.lock"
    old_umask = os.umask(0)
    try:
        async with SessionLock(path, "a"):
            pass
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700


async def test_existing_loose_file_tightened(tmp_path: Path) -> None:
    path = tmp_path / "main.lock"
    path.write_text("old")
    path.chmod(0o644)
    async with SessionLock(path, "a"):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _spawn_sleeper() -> subprocess.Popen[bytes]:
    # close_fds=False: every inheritable descriptor would pass to the child.
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], close_fds=False)


async def test_descriptor_close_on_exec(lock_path: Path) -> None:
    lock = SessionLock(lock_path, "a")
    await lock.acquire(0)
    fd = lock._fd
    assert fd is not None
    assert fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
    child = _spawn_sleeper()
    try:
        lock.release()
        # The child, still running, did not inherit the lock: it is free now.
        assert child.poll() is None
        assert read_holder(lock_path) is None
        async with SessionLock(lock_path, "b"):
            pass
    finally:
        child.kill()
        child.wait()


# -- across processes (scenario 5) -----------------------------------------------------


def _start_holder(lock_path: Path, command: str) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(
        [sys.executable, str(CONTENDER), "hold", str(lock_path), command],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        holder = read_holder(lock_path)
        if holder is not None and holder.pid == child.pid:
            return child
        if child.poll() is not None:
            break
        time.sleep(0.02)
    child.kill()
    child.wait()
    raise AssertionError("the holder process never took the lock")


@pytest.fixture
def holder_process(lock_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    child = _start_holder(lock_path, "tgpilot export team --watch")
    yield child
    if child.poll() is None:
        child.kill()
    child.wait()


async def test_cross_process_busy_then_sigkill_frees(
    lock_path: Path, holder_process: subprocess.Popen[bytes]
) -> None:
    inode = lock_path.stat().st_ino
    lock = SessionLock(lock_path, "tgpilot chats list --refresh")
    start = time.monotonic()
    with pytest.raises(SessionBusy) as err:
        await lock.acquire(1.0)
    elapsed = time.monotonic() - start
    assert 0.9 <= elapsed <= 3.0
    assert 0.9 <= lock.wait_seconds <= 3.0
    assert err.value.holder.startswith(
        f"pid {holder_process.pid} (tgpilot export team --watch) since "
    )
    assert err.value.exit_code == 4

    os.kill(holder_process.pid, signal.SIGKILL)
    killed = time.monotonic()
    await lock.acquire(5.0)
    assert time.monotonic() - killed < 0.5
    try:
        assert lock_path.exists()
        assert lock_path.stat().st_ino == inode
        assert _record(lock_path)["pid"] == os.getpid()
        holder = read_holder(lock_path)
        assert holder is not None
        assert holder.pid == os.getpid()
        assert holder.command == "tgpilot chats list --refresh"
    finally:
        lock.release()


# -- stress ----------------------------------------------------------------------------

CONTENDERS = 200
ROUNDS = 5
KILLS = 12
ATTEMPT_WAIT = 1.0


class InodeWatch(threading.Thread):
    """Stats the lock file every few ms; records any moment it is missing or replaced."""

    def __init__(self, path: Path, inode: int) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.inode = inode
        self.problems: list[str] = []
        self.checks = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                ino = self.path.stat().st_ino
            except FileNotFoundError:
                self.problems.append("lock file missing")
            else:
                if ino != self.inode:
                    self.problems.append(f"inode changed to {ino}")
            self.checks += 1
            time.sleep(0.005)


def _wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _events(out: Path) -> list[list[str]]:
    return [line.split(" ") for line in out.read_text().splitlines() if line]


@pytest.mark.slow
def test_stress_never_two_holders(tmp_path: Path) -> None:
    started = time.monotonic()
    lock_path = tmp_path / "sessions" / "main.lock"
    work = tmp_path / "work"
    (work / "out").mkdir(parents=True)
    (work / "ready").mkdir()

    # The test holds the lock while the contenders start: a barrier that makes all of
    # them pile up on it, then contend at once when it is released.
    gate = SessionLock(lock_path, "stress gate")
    asyncio.run(gate.acquire(0))
    inode = lock_path.stat().st_ino
    watch = InodeWatch(lock_path, inode)
    watch.start()

    procs: dict[int, subprocess.Popen[bytes]] = {}
    errs = (work / "stderr").open("wb")
    try:
        for index in range(CONTENDERS):
            argv = [sys.executable, str(CONTENDER), "stress", str(lock_path), str(work)]
            argv += [str(index), str(ROUNDS), str(ATTEMPT_WAIT), str(inode)]
            procs[index] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errs)
        _wait_for(
            lambda: len(list((work / "ready").iterdir())) == CONTENDERS, 45, "contenders to start"
        )
        spawned = time.monotonic()
        gate.release()

        by_pid = {p.pid: index for index, p in procs.items()}
        killed: dict[int, tuple[float, float]] = {}  # index -> (kill time, free time)
        rng = random.Random(20250102)
        deadline = time.monotonic() + 50
        while any(p.poll() is None for p in procs.values()):
            assert time.monotonic() < deadline, "contenders did not finish"
            time.sleep(rng.uniform(0.1, 0.4))
            if len(killed) >= KILLS:
                continue
            holder = read_holder(lock_path)
            if holder is None or holder.pid not in by_pid:
                continue
            index = by_pid[holder.pid]
            if index in killed or procs[index].poll() is not None:
                continue
            os.kill(holder.pid, signal.SIGKILL)
            t_kill = time.monotonic()
            # Free means: nobody holds it, or somebody other than the victim does.
            while True:
                now_holder = read_holder(lock_path)
                if now_holder is None or now_holder.pid != holder.pid:
                    break
                assert time.monotonic() - t_kill < 5, "a SIGKILLed holder kept the lock"
                time.sleep(0.001)
            killed[index] = (t_kill, time.monotonic())
            procs[index].wait()
        finished = time.monotonic()
    finally:
        watch.stop.set()
        for p in procs.values():
            if p.poll() is None:
                p.kill()
            p.wait()
        errs.close()
        watch.join()

    stderr = (work / "stderr").read_text()
    events = {index: _events(work / "out" / str(index)) for index in procs}

    # Never two holders.
    violations = [(i, e) for i, evs in events.items() for e in evs if e[0] == "VIOLATION"]
    assert violations == [], violations
    assert stderr == "", stderr[-2000:]

    # The lock file was there, one and the same inode, all along.
    assert watch.problems == [], watch.problems[:10]
    assert watch.checks > 100
    assert lock_path.stat().st_ino == inode

    # Every contender took the lock; every one not killed finished all its rounds. A
    # victim may have been killed after taking the lock and writing its record but
    # before it could log "acq" (e.g. during the fsync): being named by read_holder,
    # whose probe saw the lock held, is proof enough that it held the lock.
    acquisitions = {i: sum(1 for e in evs if e[0] == "acq") for i, evs in events.items()}
    never = [i for i, n in acquisitions.items() if n == 0 and i not in killed]
    assert never == [], never
    for index, proc in procs.items():
        if index in killed:
            assert proc.returncode == -signal.SIGKILL
        else:
            assert proc.returncode == 0, (index, proc.returncode, events[index][-3:])
            assert acquisitions[index] == ROUNDS

    # The kills: each victim was named as the holder just before; unless its log ends
    # in "rel" (it was already letting go), it died holding the lock. Each time the
    # lock was free at once.
    assert len(killed) >= KILLS // 2, f"only {len(killed)} kills landed"
    hits = {i: v for i, v in killed.items() if events[i][-1][0] != "rel"}
    assert len(hits) >= KILLS // 3, f"only {len(hits)} kills hit a holder"
    free_after = {i: t_free - t_kill for i, (t_kill, t_free) in hits.items()}
    assert max(free_after.values()) < 0.5, free_after

    # The next acquisition by another contender after each kill (its own log stamps).
    acq_times = sorted(float(e[1]) for evs in events.values() for e in evs if e[0] == "acq")
    next_acq = [
        min((t for t in acq_times if t > t_kill), default=float("inf")) - t_kill
        for t_kill, _ in hits.values()
    ]
    stale = sum(1 for evs in events.values() for e in evs if e[0] == "stale")

    total = sum(acquisitions.values())
    duration = finished - started
    print(
        f"\nstress: {CONTENDERS} contenders, {total} acquisitions, "
        f"{len(killed)} SIGKILLs ({len(hits)} while holding, {stale} stale markers), "
        f"spawn {spawned - started:.1f} s, contention {finished - spawned:.1f} s, "
        f"total {duration:.1f} s; lock free after kill max {max(free_after.values()):.4f} s, "
        f"next holder after kill max {max(next_acq):.4f} s; "
        f"{watch.checks} inode checks"
    )
    assert duration < 90
