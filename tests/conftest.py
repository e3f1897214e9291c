"""Shared fixtures: a clean environment per test, and a guard against the network.

Tests never read the developer's environment or config: every test runs with the
Telegram/tgpilot variables removed, ``HOME``/``TGPILOT_HOME``/``XDG_CONFIG_HOME`` in a
temporary folder and the working directory inside it. Sockets may only connect to
loopback (ops-and-mcp §8).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
def fake_clock() -> Any:
    from tests.fakes.clock import FakeClock

    return FakeClock()


@pytest.fixture
def tgpilot_home(tmp_path: Path) -> Path:
    return tmp_path / "tgpilot-home"
