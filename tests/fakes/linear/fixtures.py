"""Pytest fixtures for the fake Linear, shared by every Linear test module.

Registered for every test by ``tests/conftest.py`` (``pytest_plugins``): ask for them
by name.

- ``linear``: a running :class:`~tests.fakes.linear.FakeLinear` on the test's fake
  clock, with team ``ENG`` ("Engineering") seeded;
- ``linear_env``: the same, with ``LINEAR_API_KEY`` and ``linear.api_url`` set in the
  environment and ``linear.team`` = ``ENG``, so the CLI and services talk to it;
- ``linear_cli``: runs ``tgpilot …`` in-process on the fake clock and returns a
  :class:`CliResult`; it fails the test if any output shows the API key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.linear.server import FakeLinear
from tgpilot.cli.app import run

API_KEY = "lin_api_test_0123456789"


@dataclass
class CliResult:
    """One CLI invocation's exit code and output."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


RunCli = Callable[..., CliResult]


@pytest.fixture
def linear(fake_clock: FakeClock) -> Iterator[FakeLinear]:
    with FakeLinear(clock=fake_clock) as server:
        server.workspace.add_team("ENG", "Engineering")
        yield server


@pytest.fixture
def linear_env(linear: FakeLinear, monkeypatch: pytest.MonkeyPatch) -> FakeLinear:
    for name, value in linear.env(API_KEY).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TGPILOT_LINEAR__TEAM", "ENG")
    return linear


@pytest.fixture
def linear_cli(fake_clock: FakeClock, capsys: pytest.CaptureFixture[str]) -> RunCli:
    def call(*args: str) -> CliResult:
        capsys.readouterr()
        code = run(list(args), clock=fake_clock)
        captured = capsys.readouterr()
        assert API_KEY not in captured.out + captured.err
        return CliResult(code, captured.out, captured.err)

    return call
