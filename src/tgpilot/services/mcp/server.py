"""The ``tgpilot`` MCP server: tools and resources registered over :class:`McpTools`.

Built on the official SDK's :class:`~mcp.server.mcpserver.MCPServer` (FastMCP in mcp
1.x). Each registered function only names its parameters, calls the matching
:class:`~tgpilot.services.mcp.tools.McpTools` method and reports failures through
:func:`~tgpilot.services.mcp.failures.guarded`, counted in the server's
:class:`~tgpilot.services.mcp.metrics.McpMetrics`. The write tools are always registered
(so a direct call gets the spec's refusal, not "unknown tool") but listed only while
``mcp.allow_write`` is on.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import Tool as McpTool

from tgpilot.services.mcp.failures import guarded
from tgpilot.services.mcp.tools import McpTools
from tgpilot.services.mcp.writes import WRITE_TOOLS, Caller

T = TypeVar("T")

NAME = "tgpilot"
INSTRUCTIONS_PROMPT = "mcp_server"
"""The prompt (``tgpilot/prompts/mcp_server.md``, overridable like every prompt) whose
text is the server's instructions to the agent."""


class TgpilotMcpServer(MCPServer):
    """The MCPServer whose tool list hides the write tools while writing is off."""

    def __init__(self, tools: McpTools) -> None:
        from tgpilot.services.prompts import PromptLibrary

        deps = tools.deps
        prompt = PromptLibrary.from_config(deps.config, clock=deps.clock).load(INSTRUCTIONS_PROMPT)
        super().__init__(NAME, instructions=prompt.render_system(), log_level="WARNING")
        self.tools = tools

    async def list_tools(self) -> list[McpTool]:
        listed = await super().list_tools()
        if self.tools.deps.gate.enabled:
            return listed
        return [tool for tool in listed if tool.name not in WRITE_TOOLS]


def caller_of(ctx: Context[Any, Any], transport: str) -> Caller:
    """The transport and the client's name as it gave it in the handshake."""
    params = ctx.session.client_params
    name = params.client_info.name if params is not None else "unknown"
    return Caller(transport, name)


def build_server(tools: McpTools, transport: str) -> TgpilotMcpServer:
    """The server with every tool and resource of spec §6."""
    server = TgpilotMcpServer(tools)
    aliases = tools.aliases
    metrics, clock = tools.deps.metrics, tools.deps.clock

    def call(
        tool: str, work: Awaitable[T], *, error: Callable[[str], Exception] = ToolError
    ) -> Awaitable[T]:
        """``work`` counted under ``tool`` (a bounded label) and its failures reported."""
        return guarded(tool, aliases, metrics.measure(tool, work, clock), error=error)

    @server.tool(description="Configured chat aliases; with include_dialogs, recent dialogs too.")
    async def list_chats(include_dialogs: bool = False, limit: int = 50) -> dict[str, Any]:
        return await call("list_chats", tools.list_chats(include_dialogs, limit))

    @server.tool(
        description="A chat's messages, newest first; limit ≤ mcp.max_limit; "
        "since/until: 24h, 7d or ISO; search: Telegram's in-chat search."
    )
    async def get_messages(
        chat: str,
        limit: int = 50,
        before_id: int | None = None,
        after_id: int | None = None,
        since: str | None = None,
        until: str | None = None,
        search: str | None = None,
    ) -> dict[str, Any]:
        work = tools.get_messages(chat, limit, before_id, after_id, since, until, search)
        return await call("get_messages", work)

    @server.tool(
        description="Search the local archive, not Telegram: mode fulltext "
        "(words, phrases) or semantic (needs `tgpilot rag index`)."
    )
    async def search_messages(
        query: str, chat: str | None = None, mode: str = "fulltext", limit: int = 20
    ) -> dict[str, Any]:
        work = tools.search_messages(query, chat, mode, limit)
        return await call("search_messages", work)

    @server.tool(description="A message and its neighbours (before/after each ≤ 50), oldest first.")
    async def get_message_context(
        chat: str, message_id: int, before: int = 5, after: int = 5
    ) -> dict[str, Any]:
        work = tools.get_message_context(chat, message_id, before, after)
        return await call("get_message_context", work)

    @server.tool(
        description="A chat's raw and Bot API ids, type, title, username, members, "
        "description, archive coverage, writability."
    )
    async def get_chat_info(chat: str) -> dict[str, Any]:
        return await call("get_chat_info", tools.get_chat_info(chat))

    @server.tool(description="Send a text message (≤ 4096 characters) to an allowlisted chat.")
    async def send_message(
        chat: str,
        text: str,
        ctx: Context[Any, Any],
        reply_to: int | None = None,
        silent: bool = False,
    ) -> dict[str, Any]:
        work = tools.send_message(caller_of(ctx, transport), chat, text, reply_to, silent)
        return await call("send_message", work)

    @server.tool(
        description="Add an emoji reaction to a message of an allowlisted chat "
        "(the account's other reactions stay)."
    )
    async def send_reaction(
        chat: str, message_id: int, emoji: str, ctx: Context[Any, Any]
    ) -> dict[str, Any]:
        work = tools.send_reaction(caller_of(ctx, transport), chat, message_id, emoji)
        return await call("send_reaction", work)

    @server.tool(
        description="Export a chat (md, jsonl, json, csv, transcript) into "
        "<data dir>/exports/mcp/; returns the path and count."
    )
    async def export_chat(
        chat: str, format: str = "md", since: str | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        return await call("export_chat", tools.export_chat(chat, format, since, limit))

    @server.tool(description="An AI digest of a chat since 24h, 7d or an ISO date.")
    async def digest(chat: str, since: str = "24h") -> dict[str, Any]:
        return await call("digest", tools.digest(chat, since))

    @server.resource(
        "tgpilot://chats", name="chats", description="The configured chats.",
        mime_type="application/json",
    )  # fmt: skip
    async def chats_resource() -> str:
        result = await call("tgpilot://chats", tools.list_chats(), error=ResourceError)
        return json.dumps(result, ensure_ascii=False)

    @server.resource(
        "tgpilot://chats/{alias}", name="chat",
        description="One chat's info and its latest 20 messages.", mime_type="application/json",
    )  # fmt: skip
    async def chat_resource(alias: str) -> str:
        work = tools.chat_resource(alias)
        result = await call("tgpilot://chats/{alias}", work, error=ResourceError)
        return json.dumps(result, ensure_ascii=False)

    return server
