"""Running the real ``tgpilot`` CLI in-process on the fake Telegram and a fake clock.

``Cli`` calls :func:`tgpilot.cli.app.run` with the world's client factory — the same
code path as the console script, with the fake beneath Telethon — and captures the
exit code, stdout and stderr of each call.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram
from tgpilot.cli.app import run

API_ID = "12345"
API_HASH = "0123456789abcdef0123456789abcdef"


@dataclass
class CliResult:
    """One CLI invocation's outcome."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """The CLI bound to a fake world, a fake clock and a private TGPILOT_HOME."""

    def __init__(
        self,
        world: FakeTelegram,
        clock: FakeClock,
        home: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        self.world = world
        self.clock = clock
        self.home = home
        self._monkeypatch = monkeypatch
        self._capsys = capsys
        monkeypatch.setenv("TELEGRAM_API_ID", API_ID)
        monkeypatch.setenv("TELEGRAM_API_HASH", API_HASH)

    @property
    def session_file(self) -> Path:
        return self.home / "sessions" / "default.session"

    def login_session(self) -> Path:
        """Write an already-authorised session file for the world's account."""
        self.session_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.world.authorize_session_file(self.session_file)
        self.session_file.chmod(0o600)
        return self.session_file

    def __call__(self, *args: str, stdin: str | None = None) -> CliResult:
        self._capsys.readouterr()
        self._monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        code = run(
            list(args), client_factory=self.world.client_factory(self.clock), clock=self.clock
        )
        captured = self._capsys.readouterr()
        return CliResult(code, captured.out, captured.err)
