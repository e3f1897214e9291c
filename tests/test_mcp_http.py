"""``tgpilot mcp serve --transport http`` with writing on, one server process for the
module, driven by the ``mcp`` SDK's streamable HTTP client (spec §6, scenarios 36–37)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.fakes.llm.replies import Reply
from tests.fakes.llm.server import FakeLLMServer
from tests.mcp_support import (
    CLIENT_NAME,
    SECRET_WORD,
    TEAM_ID,
    TEAM_MESSAGES,
    HttpServer,
    McpInstall,
    http_client,
    install,
    make_mcp_world,
    payload,
    tool_text,
)
from tests.run_support import SCENARIO_START, TEAM

TOKEN = "test-bearer-token-123"
REACTED = "already liked by the account"
TEAM_ABOUT = "Where the team shares its notes"

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, llm: FakeLLMServer
) -> Iterator[tuple[McpInstall, str]]:
    world = make_mcp_world()
    world.me.premium = True  # premium accounts may keep several reactions on one message
    at = SCENARIO_START - timedelta(minutes=30)
    world.add_message(TEAM_ID, text=REACTED, date=at, reactions=[("👍", 3, True)])
    world.channels[TEAM].about = TEAM_ABOUT
    model = f'llm: {{provider: openai, model: gpt-4o-mini, base_url: "{llm.openai_url}"}}\n'
    inst = install(
        tmp_path_factory.mktemp("mcp-http"), allow_write=True, allowlist=("team",), world=world,
        extra_config=model, request_log=True,
    )  # fmt: skip
    inst.env["TGPILOT_MCP__HTTP_TOKEN"] = TOKEN
    inst.env["OPENAI_API_KEY"] = "sk-test"
    server = HttpServer(inst, "mcp", "serve", "--transport", "http", "--port", "0")
    try:
        yield inst, server.wait_for_url()
    finally:
        assert server.stop() == 0, server.seen
        assert all(TOKEN not in line for line in server.seen)


async def test_with_writing_on_the_write_tools_are_listed(served: tuple[McpInstall, str]) -> None:
    _inst, url = served
    async with http_client(url, TOKEN) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert {"send_message", "send_reaction", "get_messages", "search_messages"} <= names


def test_every_request_needs_the_bearer_token(served: tuple[McpInstall, str]) -> None:
    _inst, url = served
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert httpx.post(url, json=ping).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert httpx.post(url, json=ping, headers=wrong).status_code == 401


async def test_a_chat_off_the_allowlist_is_refused(served: tuple[McpInstall, str]) -> None:
    inst, url = served
    async with http_client(url, TOKEN) as client:
        refused = await client.call_tool("send_message", {"chat": "alice", "text": "hi"})
    assert refused.is_error
    assert "chat alice is not on mcp.write_allowlist" in tool_text(refused)
    assert not [m for m in inst.world().history(1001) if m.out and m.text == "hi"]


async def test_an_allowlisted_chat_gets_the_message_and_one_audit_line_names_tool_and_client(
    served: tuple[McpInstall, str],
) -> None:
    inst, url = served
    text = "status update from the agent"
    async with http_client(url, TOKEN) as client:
        sent = payload(await client.call_tool("send_message", {"chat": "team", "text": text}))
        blank = await client.call_tool("send_message", {"chat": "team", "text": "  "})
        huge = await client.call_tool("send_message", {"chat": "team", "text": "x" * 4097})
    assert tool_text(blank).endswith("Text message cannot be empty.")
    assert huge.is_error and "at most 4096" in tool_text(huge)
    [message] = [m for m in inst.world().history(TEAM_ID) if m.out and m.text == text]
    assert sent == {"chat_id": TEAM_ID, "message_id": message.id, "sent": True}
    lines = [a for a in inst.audit() if a["params"].get("text") == text]
    assert len(lines) == 1
    [line] = lines
    assert (line["action"], line["result"], line["chat_id"]) == ("telegram.send", "ok", TEAM_ID)
    assert line["message_id"] == message.id and line["ts"]
    assert line["params"]["tool"] == "send_message"
    assert line["params"]["client"] == CLIENT_NAME
    assert line["params"]["transport"] == "http"


async def test_a_reaction_is_added_beside_the_accounts_own_and_audited(
    served: tuple[McpInstall, str],
) -> None:
    inst, url = served
    [target] = [m for m in inst.world().history(TEAM_ID) if m.text == REACTED]
    async with http_client(url, TOKEN) as client:
        done = payload(
            await client.call_tool(
                "send_reaction", {"chat": "team", "message_id": target.id, "emoji": "🔥"}
            )
        )
        twice = payload(
            await client.call_tool(
                "send_reaction", {"chat": "team", "message_id": target.id, "emoji": "🔥"}
            )
        )
    assert done["reactions"] == ["👍", "🔥"] and done["skipped"] is None
    assert twice["skipped"] == "already reacted"
    assert inst.world().my_reactions(TEAM_ID, target.id) == ["👍", "🔥"]
    first, second = [a for a in inst.audit() if a["action"] == "telegram.react"]
    assert (first["message_id"], first["result"]) == (target.id, "ok")
    assert first["params"]["emoji"] == "🔥" and first["params"]["client"] == CLIENT_NAME
    assert (second["result"], second["error"]) == ("skipped", "already reacted")


async def test_context_info_export_and_resources(served: tuple[McpInstall, str]) -> None:
    inst, url = served
    async with http_client(url, TOKEN) as client:
        history = payload(await client.call_tool("get_messages", {"chat": "team", "limit": 30}))
        middle = history["messages"][15]["id"]
        context = payload(
            await client.call_tool(
                "get_message_context",
                {"chat": "team", "message_id": middle, "before": 2, "after": 99},
            )
        )
        info = payload(await client.call_tool("get_chat_info", {"chat": "@team_chat"}))
        before = len(inst.requests())
        searched = payload(
            await client.call_tool("get_messages", {"chat": "team", "search": "PELICAN"})
        )
        notes = payload(
            await client.call_tool(
                "get_messages", {"chat": "team", "search": "team NOTE", "limit": 150}
            )
        )
        asked = inst.requests()[before:]
        alone = payload(
            await client.call_tool(
                "get_message_context",
                {"chat": "team", "message_id": middle, "before": 0, "after": 0},
            )
        )
        before_near = len(inst.requests())
        near = payload(
            await client.call_tool(
                "get_message_context",
                {"chat": "team", "message_id": middle, "before": 0, "after": 3},
            )
        )
        near_asked = inst.requests()[before_near:]
        exported = payload(
            await client.call_tool("export_chat", {"chat": "team", "format": "jsonl", "limit": 5})
        )
        chats = await client.read_resource("tgpilot://chats")
        team = await client.read_resource("tgpilot://chats/team")
    ids = [m["id"] for m in context["messages"]]
    assert ids == sorted(ids) and ids.index(middle) == 2  # oldest first, 2 before
    assert len(ids) == 2 + 1 + 15  # "after" is clamped to 50; only 15 are newer
    assert [m["id"] for m in alone["messages"]] == [middle]
    newer = sorted(m["id"] for m in history["messages"] if m["id"] > middle)[:3]
    assert [m["id"] for m in near["messages"]] == [middle, *newer]  # the nearest three
    assert near_asked.count("GetHistoryRequest") == 1  # one oldest-first read after the id
    [found] = searched["messages"]
    assert found["text"] == f"team note 100 about the {SECRET_WORD}"
    note_ids = [m["id"] for m in notes["messages"]]
    assert len(note_ids) == 150 and note_ids == sorted(note_ids, reverse=True)
    assert notes["messages"][0]["text"] == f"team note {TEAM_MESSAGES - 1}"
    assert all(m["text"].startswith("team note ") for m in notes["messages"])
    # Telegram's search, not a local filter: the pelican's page and the empty one that
    # ends it (a channel's answer never says it is the last), then 100 + 50 notes
    assert asked.count("SearchRequest") == 4 and "GetHistoryRequest" not in asked
    assert info["description"] == TEAM_ABOUT and info["members"] == 3
    assert (info["id"], info["bot_api_id"], info["raw_id"]) == (TEAM_ID, TEAM_ID, 555)
    assert info["type"] == "supergroup" and info["writable"] is True
    assert info["untrusted"] is True
    path = Path(exported["path"])
    assert path.parent == inst.home / "exports" / "mcp" and exported["messages"] == 5
    assert len(path.read_text(encoding="utf-8").splitlines()) >= 5
    assert '"name": "team"' in chats.contents[0].text
    assert '"untrusted": true' in team.contents[0].text


async def test_digest_runs_the_ai_digest_service_and_marks_it_untrusted(
    served: tuple[McpInstall, str], llm: FakeLLMServer
) -> None:
    _inst, url = served
    llm.script(Reply.of_text("The team shared numbered notes; one mentions a pelican."))
    async with http_client(url, TOKEN) as client:
        result = payload(
            await client.call_tool("digest", {"chat": "team", "since": "2024-03-09T00:00:00Z"})
        )
    assert result["untrusted"] is True
    digest = result["digest"]
    assert digest["digest"].startswith("The team shared numbered notes")
    assert digest["status"] == "ok" and digest["activity"]["total_messages"] > 0
    [request] = llm.requests_to("/chat/completions")
    assert "team note" in json.dumps(request.json, ensure_ascii=False)
