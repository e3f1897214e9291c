"""``tgpilot mcp serve`` as a real subprocess on the fake Telegram, and the SDK's clients.

:func:`install` writes a data dir (authorised session unless told not), a saved world
(:func:`make_mcp_world`: the run_support world plus a busy ``Team`` supergroup) and a
config with the aliases ``team`` and ``alice`` (and, on request, a log of the requests
the server sends). :func:`stdio_client` starts the server
through ``tests.fakes.telegram.launch`` as the ``mcp`` SDK's own ``Client`` over stdio;
:class:`HttpServer` runs it with ``--transport http --port 0`` and :func:`http_client`
connects to the address it announces on stderr.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import mcp_types
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.fakes.telegram import FakeTelegram
from tests.process_support import FollowedProcess
from tests.run_support import ALICE, BOB, SCENARIO_START, TEAM_ID, make_world

REPO = Path(__file__).resolve().parents[1]
CLIENT_NAME = "pytest-agent"
TEAM_MESSAGES = 260
"""More than ``mcp.max_limit`` (200), so clamping shows."""
SECRET_WORD = "pelican"


def make_mcp_world() -> FakeTelegram:
    """The run_support world with ``TEAM_MESSAGES`` messages in Team and a few with Alice."""
    world = make_world()
    start = SCENARIO_START - timedelta(hours=TEAM_MESSAGES)
    for n in range(TEAM_MESSAGES):
        sender = ALICE if n % 2 else BOB
        text = f"team note {n}" + (f" about the {SECRET_WORD}" if n == 100 else "")
        world.add_message(TEAM_ID, text=text, sender=sender, date=start + timedelta(hours=n))
    for n in range(3):
        world.add_message(ALICE, text=f"hello {n}", date=SCENARIO_START - timedelta(minutes=10 - n))
    return world


@dataclass
class McpInstall:
    """One data dir, its saved world and config, and the environment to run in."""

    home: Path
    world_file: Path
    config_file: Path
    env: dict[str, str]
    request_log: Path | None = None
    """Where the launcher appends each request's name as the server answers it."""

    @property
    def lock_file(self) -> Path:
        return self.home / "sessions" / "default.lock"

    def audit(self) -> list[dict[str, Any]]:
        path = self.home / "audit.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def world(self) -> FakeTelegram:
        return FakeTelegram.load(self.world_file)

    def launch(self, *tgpilot_args: str) -> list[str]:
        """Arguments after ``python``: the launcher, the world, then ``tgpilot`` args."""
        own = ["-m", "tests.fakes.telegram.launch", "--world", str(self.world_file), "--persist"]
        if self.request_log is not None:
            own += ["--request-log", str(self.request_log)]
        return [*own, "--", "--config", str(self.config_file), *tgpilot_args]

    def requests(self) -> list[str]:
        """The requests the server has sent so far, in order (``request_log`` set)."""
        assert self.request_log is not None, "install(..., request_log=True)"
        if not self.request_log.exists():
            return []
        return self.request_log.read_text(encoding="utf-8").split()


def install(
    root: Path,
    *,
    allow_write: bool = False,
    allowlist: tuple[str, ...] = (),
    lock_wait: float = 1.0,
    idle_release: float = 60.0,
    session: bool = True,
    extra_config: str = "",
    world: FakeTelegram | None = None,
    request_log: bool = False,
) -> McpInstall:
    """A data dir under ``root`` on a saved world (default: :func:`make_mcp_world`)."""
    home = root / "home"
    (home / "sessions").mkdir(parents=True, exist_ok=True)
    world = world or make_mcp_world()
    if session:
        world.authorize_session_file(home / "sessions" / "default.session")
    world_file = root / "world.pickle"
    world.save(world_file)
    config = root / "config.yml"
    config.write_text(
        f"""chats:
  team: {{id: {TEAM_ID}, title: Team}}
  alice: {{username: alice}}
session: {{lock_wait: {lock_wait}}}
mcp:
  allow_write: {"true" if allow_write else "false"}
  write_allowlist: {json.dumps(list(allowlist))}
  write_rate: 600
  idle_release: {idle_release}
{extra_config}""",
        encoding="utf-8",
    )
    env = {
        "PYTHONPATH": f"{REPO}:{REPO / 'src'}",
        "TGPILOT_HOME": str(home),
        "TELEGRAM_API_ID": "1",
        "TELEGRAM_API_HASH": "a" * 32,
        "HOME": str(root),
    }
    log = root / "requests.txt" if request_log else None
    return McpInstall(home, world_file, config, env, log)


def stdio_client(inst: McpInstall) -> Client:
    """The SDK's client running ``tgpilot mcp serve`` (stdio) as its subprocess."""
    params = StdioServerParameters(
        command=sys.executable, args=inst.launch("mcp", "serve"), env=inst.env, cwd=str(REPO)
    )
    return Client(params, client_info=mcp_types.Implementation(name=CLIENT_NAME, version="1.0"))


class HttpServer(FollowedProcess):
    """``tgpilot ARGS`` (``mcp serve --transport http`` or ``run``) in a subprocess,
    announcing the MCP address on stderr."""

    def __init__(self, inst: McpInstall, *tgpilot_args: str) -> None:
        command = [sys.executable, *inst.launch(*tgpilot_args)]
        super().__init__(command, cwd=REPO, env={**os.environ, **inst.env}, stdout=subprocess.PIPE)

    def wait_for_url(self, timeout: float = 60) -> str:
        try:
            return self.wait_for(r"serving MCP on (http://\S+)", timeout).group(1)
        except AssertionError:
            raise AssertionError(f"the server announced no address: {self.seen}") from None

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int:
        return super().stop(signum, timeout)


def http_client(url: str, token: str | None = None) -> Client:
    """The SDK's streamable HTTP client for ``url`` (with a bearer token if given)."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    web = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300))
    transport = streamable_http_client(url, http_client=web)
    return Client(transport, client_info=mcp_types.Implementation(name=CLIENT_NAME, version="1.0"))


def tool_text(result: Any) -> str:
    """The text of a tool result's first content block."""
    return str(result.content[0].text)


def payload(result: Any) -> dict[str, Any]:
    """A successful tool result's JSON document."""
    assert not result.is_error, tool_text(result)
    if result.structured_content is not None:
        return dict(result.structured_content)
    return dict(json.loads(tool_text(result)))
