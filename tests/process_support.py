"""A ``tgpilot`` subprocess whose stderr is followed line by line, for tests that drive a
long-running command (``tgpilot run``, ``mcp serve --transport http``) from outside."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


class FollowedProcess:
    """A subprocess with its stderr read on a thread; ``seen`` keeps every line read."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        stdout: int | None = subprocess.DEVNULL,
    ) -> None:
        self.proc = subprocess.Popen(
            list(command), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=stdout,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 40) -> re.Match[str]:
        """The first match of ``pattern`` in a line still to come (AssertionError with
        every line seen when the process ends or the time runs out first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no {pattern!r} in the output: {self.seen}")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 40) -> int:
        """Signal the process (if still running), wait for it, keep its last lines."""
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        code = self.proc.wait(timeout=timeout)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code
