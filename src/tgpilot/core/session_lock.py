"""The account session lock: one process at a time may use a Telethon session.

Telethon's session is an SQLite file plus live MTProto state (auth key, update
sequence numbers, message ids); two processes driving it at once corrupt both. So every
command that opens the session first takes ``sessions/<account>.lock`` beside it
(DESIGN "The account session", spec §1.4).

Why ``flock``
    ``flock(LOCK_EX | LOCK_NB)`` is held by the kernel on the open file description,
    not by anything written to disk. When the holder exits *in any way* — normal exit,
    exception, ``kill -9``, OOM kill, power loss of the process — the kernel closes its
    descriptors and the lock is free at once. A pid-file lock ("create the file if it
    is absent") needs stale-lock detection instead, which is racy (pid reuse, a holder
    that is alive but slow) and leaves the account stuck after a crash. ``flock`` is
    also per open file description, so two ``SessionLock`` objects in one process (two
    ``open`` calls) contend exactly as two processes do. The descriptor is opened with
    ``O_CLOEXEC`` so a child we ``exec`` (an editor, a hook) never inherits the lock
    and keeps it alive after we exit. (A bare ``fork`` without ``exec`` shares the
    description; tgpilot does not do that while holding the lock.)

Why the lock file is never deleted
    The lock lives on the file's inode, not on its name. If a holder deleted the file
    on release, a process that had already opened the old file (and is about to lock
    it) would lock the orphaned inode, while a third process creates a new file under
    the name and locks that: two holders, each "owning" the lock. Keeping the file
    forever (and never truncating it on open) makes the name → inode mapping stable,
    so everyone contends on one inode. As a belt-and-braces check, ``acquire`` verifies
    after locking that the path still names the inode it locked, and starts over if
    not.

The holder record
    After taking the lock the holder truncates the file and writes
    ``{"pid", "command", "started_at"}`` as JSON (fsync'ed), so a contender or
    ``session status`` can say who holds it. The record is left in place on release:
    content alone proves nothing, so :func:`read_holder` reports a holder only if a
    non-blocking shared-lock probe shows the lock is really held. Between a new holder
    taking the lock and rewriting the record (microseconds) a reader may see the
    previous holder's record, or an empty or partial one (reported as ``None``).

Platform: Linux and macOS (``fcntl``). ``flock`` over NFS is emulated with POSIX
record locks by Linux and is not supported for the data dir.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from tgpilot.core.clock import Clock, SystemClock
from tgpilot.core.errors import SessionBusy

__all__ = ["RETRY_INTERVAL", "LockHolder", "SessionLock", "read_holder"]

RETRY_INTERVAL = 0.25
"""Seconds between two attempts to take a contended lock (spec §1.4)."""

_MAX_RECORD_BYTES = 64 * 1024
_FILE_MODE = 0o600
_DIR_MODE = 0o700


def _format_time(moment: datetime) -> str:
    """ISO 8601 UTC to the second with a ``Z``: ``2025-01-02T03:04:05Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class LockHolder:
    """Who holds the session lock, as written by the holder into the lock file."""

    pid: int
    command: str
    started_at: datetime

    def describe(self) -> str:
        """``pid 4242 (tgpilot export team) since 2025-01-02T03:04:05Z``."""
        return f"pid {self.pid} ({self.command}) since {_format_time(self.started_at)}"

    def to_json(self) -> bytes:
        record = {
            "pid": self.pid,
            "command": self.command,
            "started_at": _format_time(self.started_at),
        }
        return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"

    @classmethod
    def from_json(cls, raw: bytes) -> LockHolder | None:
        """Parse a holder record; ``None`` for empty, partial or corrupt content."""
        try:
            record: Any = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        if not isinstance(record, dict):
            return None
        pid = record.get("pid")
        command = record.get("command")
        started = record.get("started_at")
        if type(pid) is not int or pid <= 0:
            return None
        if not isinstance(command, str) or not isinstance(started, str):
            return None
        try:
            started_at = datetime.fromisoformat(started)
        except ValueError:
            return None
        if started_at.tzinfo is None:
            started_at = started_at.replace(tzinfo=UTC)
        return cls(pid=pid, command=command, started_at=started_at.astimezone(UTC))


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    offset = 0
    while offset < _MAX_RECORD_BYTES:
        chunk = os.pread(fd, _MAX_RECORD_BYTES - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def read_holder(path: Path) -> LockHolder | None:
    """Who holds the lock at ``path``, without taking it; ``None`` if nobody does.

    A shared, non-blocking ``flock`` probe on a fresh read-only descriptor tells
    whether the lock is held (the probe is dropped at once). If the probe succeeds the
    lock is free and any content is stale → ``None``. If it is held, the holder record
    is parsed; a missing, empty, partial or corrupt record also gives ``None``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # someone holds it exclusively: read their record below
        except OSError:
            return None
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        try:
            raw = _read_all(fd)
        except OSError:
            return None
        return LockHolder.from_json(raw)
    finally:
        os.close(fd)


def _ensure_dir(directory: Path) -> None:
    """Create ``directory`` and any missing ancestors with mode 0700."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for created in reversed(missing):
        with contextlib.suppress(FileExistsError):
            created.mkdir(mode=_DIR_MODE)
            created.chmod(_DIR_MODE)  # mkdir's mode is filtered through the umask


class SessionLock:
    """An exclusive, kernel-held lock on one account session.

    ``await lock.acquire(wait)`` or ``async with lock:`` (which waits 0 s); ``release()``
    frees it. One object is one holder: acquiring an object that is already held (or
    is still waiting in another task) raises ``RuntimeError`` — the lock is not
    re-entrant. A second ``SessionLock`` on the same path in the same process opens its
    own descriptor and contends like another process would (``SessionBusy`` naming
    this very pid). ``release()`` on an object that is not held does nothing.

    ``wait_seconds`` is the time the last ``acquire`` spent before it took the lock or
    gave up (for metrics).
    """

    def __init__(self, path: Path, command: str, *, clock: Clock | None = None) -> None:
        self.path = path
        self.command = command
        self.wait_seconds = 0.0
        self.holder: LockHolder | None = None
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._fd: int | None = None
        self._busy = False  # held, or an acquire is in progress

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    async def acquire(self, wait: float = 0.0) -> None:
        """Take the lock, retrying every 0.25 s for up to ``wait`` seconds.

        Raises ``SessionBusy`` (exit 4) naming the holder if it is still held after
        ``wait`` seconds, ``RuntimeError`` if this object already holds (or is
        acquiring) it, ``ValueError`` for a negative ``wait``, and ``OSError`` if the
        lock file cannot be created or written.
        """
        if math.isnan(wait) or wait < 0:
            raise ValueError(f"lock wait must be a number of seconds >= 0, got {wait!r}")
        if self._busy:
            raise RuntimeError(f"session lock {self.path} is already held or being acquired")
        self._busy = True
        start = self._clock.monotonic()
        deadline = start + wait
        fd: int | None = None
        try:
            fd = self._open()
            while True:
                if self._try_lock(fd):
                    if self._still_linked(fd):
                        break
                    # The file was replaced under us: we locked a dead inode. Start over.
                    os.close(fd)
                    fd = None
                    fd = self._open()
                    continue
                now = self._clock.monotonic()
                if now >= deadline:
                    self.wait_seconds = now - start
                    raise SessionBusy(self._describe_holder())
                await self._clock.sleep(min(RETRY_INTERVAL, deadline - now))
            self.wait_seconds = self._clock.monotonic() - start
            holder = LockHolder(pid=os.getpid(), command=self.command, started_at=self._clock.now())
            self._write_record(fd, holder)
        except BaseException:
            if fd is not None:
                os.close(fd)  # closing drops the flock too, if we had taken it
            self._busy = False
            raise
        self._fd = fd
        self.holder = holder

    def release(self) -> None:
        """Unlock and close. The file and its record stay (see the module docstring)."""
        fd = self._fd
        if fd is None:
            return
        self._fd = None
        self.holder = None
        self._busy = False
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    async def __aenter__(self) -> SessionLock:
        await self.acquire(0.0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "held" if self.held else "free"
        return f"SessionLock({str(self.path)!r}, {self.command!r}, {state})"

    # -- internals -------------------------------------------------------------------

    def _open(self) -> int:
        """Open (creating, never truncating) the lock file, close-on-exec, mode 0600."""
        _ensure_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, _FILE_MODE)
        try:
            mode = os.fstat(fd).st_mode & 0o777
            if mode != _FILE_MODE:
                with contextlib.suppress(PermissionError):
                    os.fchmod(fd, _FILE_MODE)
        except BaseException:
            os.close(fd)
            raise
        return fd

    @staticmethod
    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        return True

    def _still_linked(self, fd: int) -> bool:
        """Whether ``self.path`` still names the inode ``fd`` refers to."""
        try:
            by_path = self.path.stat()
        except FileNotFoundError:
            return False
        by_fd = os.fstat(fd)
        return (by_path.st_dev, by_path.st_ino) == (by_fd.st_dev, by_fd.st_ino)

    @staticmethod
    def _write_record(fd: int, holder: LockHolder) -> None:
        data = holder.to_json()
        os.ftruncate(fd, 0)
        written = 0
        while written < len(data):
            written += os.pwrite(fd, data[written:], written)
        os.fsync(fd)

    def _describe_holder(self) -> str:
        holder = read_holder(self.path)
        if holder is None:
            return f"another process (lock {self.path})"
        return holder.describe()
