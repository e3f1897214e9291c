"""A separate process that takes the account session lock, for tests/test_session_lock.py.

Two modes:

``hold LOCK COMMAND``
    Take the lock (waiting up to 10 s) under ``COMMAND`` and keep it until killed.

``stress LOCK WORKDIR INDEX ROUNDS WAIT INODE``
    Contend for the lock until it has been taken ``ROUNDS`` times. Each attempt waits
    up to ``WAIT`` seconds (``SessionBusy`` → try again). While holding, it creates
    ``WORKDIR/marker`` with ``O_CREAT | O_EXCL``: if the marker already exists and the
    process that made it is still alive, two processes hold the lock at once — that is
    reported as ``VIOLATION`` and the process exits 2. A marker left by a holder that
    was SIGKILLed (its creator is dead) is stale: it is logged and replaced. It also
    checks that the lock path still names inode ``INODE`` (the file was never deleted
    or replaced). Every event is appended, one line each, to ``WORKDIR/out/INDEX``:

        start <pid> <monotonic>
        busy <monotonic>
        acq <monotonic> <wait_seconds>
        stale <dead pid>
        rel <monotonic>
        VIOLATION <why>
        done <acquisitions>

    ``time.monotonic`` is CLOCK_MONOTONIC, shared by every process on the machine, so
    the parent can compare these stamps with its own. Exit 0 when done, 2 on a
    violation, 3 if it could not finish within 50 s.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tgpilot.core.errors import SessionBusy
from tgpilot.core.session_lock import SessionLock

GIVE_UP_AFTER = 50.0


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie has already dropped its locks)."""
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            text = stat.read_text()
        except (FileNotFoundError, ProcessLookupError):
            return False
        state = text[text.rfind(")") + 2 :].split(" ", 1)[0]
        return state not in ("Z", "X", "x")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def hold(lock_path: Path, command: str) -> None:
    lock = SessionLock(lock_path, command)
    await lock.acquire(10.0)
    print(f"held {os.getpid()}", flush=True)
    while True:
        await asyncio.sleep(3600)


class Violation(Exception):
    pass


async def stress(
    lock_path: Path, workdir: Path, index: int, rounds: int, wait: float, inode: int
) -> int:
    out = os.open(workdir / "out" / str(index), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def log(*parts: object) -> None:
        os.write(out, (" ".join(str(p) for p in parts) + "\n").encode())

    marker = workdir / "marker"
    me = os.getpid()
    started = time.monotonic()
    log("start", me, started)
    (workdir / "ready" / str(index)).touch()
    acquired = 0
    try:
        while acquired < rounds:
            if time.monotonic() - started > GIVE_UP_AFTER:
                log("gaveup", acquired)
                return 3
            lock = SessionLock(lock_path, f"lock_contender {index}")
            try:
                await lock.acquire(wait)
            except SessionBusy:
                log("busy", time.monotonic())
                continue
            try:
                log("acq", time.monotonic(), f"{lock.wait_seconds:.4f}")
                acquired += 1
                _check_inode(lock_path, inode)
                _create_marker(marker, me, log)
                await asyncio.sleep(random.uniform(0.002, 0.008))
                try:
                    marker_pid = int(marker.read_text() or "0")
                    marker.unlink()
                except FileNotFoundError:
                    raise Violation("marker vanished while holding") from None
                if marker_pid != me:
                    raise Violation(f"marker owned by {marker_pid} while {me} holds")
                log("rel", time.monotonic())
            finally:
                lock.release()
            await asyncio.sleep(random.uniform(0.0, 0.02))
    except Violation as exc:
        log("VIOLATION", exc)
        return 2
    log("done", acquired)
    return 0


def _check_inode(lock_path: Path, inode: int) -> None:
    try:
        now = lock_path.stat().st_ino
    except FileNotFoundError:
        raise Violation("lock file deleted") from None
    if now != inode:
        raise Violation(f"lock file inode changed: {inode} -> {now}")


def _create_marker(marker: Path, me: int, log: Callable[..., None]) -> None:
    for _ in range(2):
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            other = _marker_pid(marker)
            if other == 0:
                time.sleep(0.01)  # created but not yet written: give its creator a moment
                other = _marker_pid(marker)
            if other and _alive(other):
                raise Violation(f"marker of live pid {other} exists: two holders") from None
            # Its creator was killed while holding (or between open and write): stale.
            log("stale", other)
            marker.unlink(missing_ok=True)
            continue
        try:
            os.write(fd, str(me).encode())
        finally:
            os.close(fd)
        return
    raise Violation("marker reappeared right after removing a stale one")


def _marker_pid(marker: Path) -> int:
    try:
        return int(marker.read_text() or "0")
    except (FileNotFoundError, ValueError):
        return 0


def main(argv: list[str]) -> int:
    mode = argv[1]
    if mode == "hold":
        asyncio.run(hold(Path(argv[2]), argv[3]))
        return 0
    if mode == "stress":
        lock_path, workdir = Path(argv[2]), Path(argv[3])
        index, rounds, wait, inode = int(argv[4]), int(argv[5]), float(argv[6]), int(argv[7])
        return asyncio.run(stress(lock_path, workdir, index, rounds, wait, inode))
    print(f"unknown mode {mode!r}", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
