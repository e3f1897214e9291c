"""``tgpilot mcp print-config``, the loopback rule of ``mcp serve --transport http``, and the
MCP server inside ``tgpilot run`` (spec §6: "it can also run inside tgpilot run")."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from tests.mcp_support import TEAM_ID, HttpServer, http_client, install, payload
from tgpilot.cli.app import run
from tgpilot.core.session_lock import read_holder

pytestmark = pytest.mark.timeout(180)


def test_print_config_gives_claude_and_cursor_an_absolute_command_and_the_data_dir(
    tgpilot_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["mcp", "print-config"]) == 0
    out, err = capsys.readouterr()
    claude = json.loads(out)["mcpServers"]["tgpilot"]
    assert Path(claude["command"]).is_absolute()
    assert claude["args"][-2:] == ["mcp", "serve"]
    if claude["args"][:2] == ["-m", "tgpilot"]:
        assert claude["command"] == sys.executable
    assert claude["env"] == {"TGPILOT_HOME": str(tgpilot_home)}
    assert "claude_desktop_config.json" in err

    assert run(["--account", "work", "mcp", "print-config", "--client", "cursor", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["client"] == "cursor"
    assert document["files"]["global"] == "~/.cursor/mcp.json"
    cursor = document["config"]["mcpServers"]["tgpilot"]
    assert cursor["type"] == "stdio"
    assert cursor["args"][-4:] == ["--account", "work", "mcp", "serve"]

    assert run(["mcp", "print-config", "--client", "vscode"]) == 2


def test_http_off_loopback_without_a_token_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["mcp", "serve", "--transport", "http", "--host", "0.0.0.0", "--port", "0"])
    assert code == 2
    err = capsys.readouterr().err
    assert "not loopback" in err and "TGPILOT_MCP__HTTP_TOKEN" in err
    assert run(["mcp", "serve", "--transport", "carrier-pigeon"]) == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_mcp_inside_run_shares_runs_client_and_lock(tmp_path: Path) -> None:
    port = _free_port()
    inst = install(
        tmp_path,
        extra_config=f"  enabled: true\n  port: {port}\nautoanswer: {{mode: off}}\n",
    )
    server = HttpServer(inst, "run")
    try:
        url = server.wait_for_url()
        assert url == f"http://127.0.0.1:{port}/mcp"
        async with http_client(url) as client:
            got = payload(await client.call_tool("get_messages", {"chat": "team", "limit": 5}))
            info = payload(await client.call_tool("get_chat_info", {"chat": str(TEAM_ID)}))
        assert len(got["messages"]) == 5 and info["id"] == TEAM_ID
        holder = read_holder(inst.lock_file)
        assert holder is not None and holder.pid == server.proc.pid
        assert holder.command.endswith(" run")  # run's own lock: no second one was taken
    finally:
        assert server.stop() == 0, server.seen
    assert read_holder(inst.lock_file) is None
