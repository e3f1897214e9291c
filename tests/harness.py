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
from typing import TYPE_CHECKING, Any

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram
from tgpilot.cli.app import run

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.session import SessionOptions

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
        before = self.world.mutating_requests()
        code = run(
            list(args), client_factory=self.world.client_factory(self.clock), clock=self.clock
        )
        captured = self._capsys.readouterr()
        if plan_only(args):
            assert self.world.mutating_requests() == before, (
                f"a mutating request reached the fake without --yes: {args}"
            )
        return CliResult(code, captured.out, captured.err)


#: Commands that only plan unless given --yes (DESIGN rule 4), and single actions whose
#: --dry-run must change nothing.
PLAN_COMMANDS = frozenset({"like", "clean", "apply", "viral", "moderate", "logout"})
DRY_RUN_COMMANDS = frozenset({"send", "react"})


def plan_only(args: tuple[str, ...]) -> bool:
    """True if this invocation must not send a single mutating request to Telegram."""
    words = set(args)
    if words & {"--yes", "-y"}:
        return False
    return bool(words & PLAN_COMMANDS) or ("--dry-run" in words and bool(words & DRY_RUN_COMMANDS))


def session_options(
    world: FakeTelegram,
    data_dir: Path,
    clock: FakeClock | None = None,
    **overrides: Any,
) -> SessionOptions:
    """Options for ``open_session`` on ``world`` with an authorised session in
    ``data_dir/sessions`` — the gateway as commands get it, without the CLI around it."""
    from tgpilot.gateways.telegram.client import ClientSpec
    from tgpilot.gateways.telegram.session import SessionOptions

    clock = clock or FakeClock()
    sessions = data_dir / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    session = sessions / "default.session"
    world.authorize_session_file(session)
    receive_updates = overrides.pop("receive_updates", False)
    return SessionOptions(
        spec=ClientSpec(
            session_path=session, api_id=1, api_hash="a" * 32, receive_updates=receive_updates
        ),
        lock_file=sessions / "default.lock",
        server_file=sessions / "default.server.json",
        command=overrides.pop("command", "tgpilot test"),
        factory=world.client_factory(clock),
        clock=clock,
        **overrides,
    )
