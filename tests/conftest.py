"""Shared fixtures: a clean environment per test, and a guard against the network.

Tests never read the developer's environment or config: every test runs with the
Telegram/tgpilot variables removed, ``HOME``/``TGPILOT_HOME``/``XDG_CONFIG_HOME`` in a
temporary folder and the working directory inside it. Sockets may only connect to
loopback (ops-and-mcp §8).

Fixture modules shared by many test files are registered here once, as plugins
(``pytest_plugins``), instead of being imported into each of them: the database servers
(``store_url``, ``module_store_url``, ``store`` from ``tests/db_servers.py``) and the
fake Linear (``linear``, ``linear_env``, ``linear_cli`` from
``tests/fakes/linear/fixtures.py``).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli

pytest_plugins = ["tests.db_servers", "tests.fakes.linear.fixtures"]

_ENV_PREFIXES = ("TGPILOT_", "TELEGRAM_", "OPENAI_", "ANTHROPIC_", "LINEAR_", "YANDEX_")
_REAL_CONNECT = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise ConnectionRefusedError(f"tests may not reach {host}: loopback only")
    return _REAL_CONNECT(self, address)


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private HOME, data dir, config dir and working dir; no inherited secrets."""
    keep = os.environ.get("TGPILOT_REQUIRE_SERVICES")
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name)
    if keep is not None:
        monkeypatch.setenv("TGPILOT_REQUIRE_SERVICES", keep)
    home = tmp_path / "userhome"
    work = tmp_path / "work"
    for folder in (home, work):
        folder.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("TGPILOT_HOME", str(tmp_path / "tgpilot-home"))
    monkeypatch.chdir(work)
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    yield work


@pytest.fixture
def fake_clock() -> FakeClock:
    """Virtual time for the code under test."""
    return FakeClock()


@pytest.fixture
def tgpilot_home(tmp_path: Path) -> Path:
    """The data dir every test's TGPILOT_HOME points at."""
    return tmp_path / "tgpilot-home"


@pytest.fixture
def make_cli(
    tgpilot_home: Path,
    fake_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., Cli]:
    """Builds the in-process CLI harness on a fake world (logged in unless told not)."""

    def make(world: FakeTelegram, *, logged_in: bool = True) -> Cli:
        harness = Cli(world, fake_clock, tgpilot_home, monkeypatch, capsys)
        if logged_in:
            harness.login_session()
        return harness

    return make
