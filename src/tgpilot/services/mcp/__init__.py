"""The MCP server: the account and the archive as safe tools for IDE agents
(spec ops-and-mcp.md §6).

- :mod:`.records` — messages, chats and hits as tool results, third-party text marked
  ``"untrusted": true``;
- :mod:`.failures` — tgpilot's typed errors as one-line MCP tool errors with a hint;
- :mod:`.session` — the Telegram session behind the tools: taken lazily under the
  shared lock and released when idle (``mcp serve``), or lent by ``tgpilot run``;
- :mod:`.writes` — write gating: ``mcp.allow_write``, the allowlist, pacing, the audit;
- :mod:`.tools` — each tool as a call into the existing services, no logic of its own;
- :mod:`.server` — the ``tgpilot`` MCPServer: tool and resource registration, instructions;
- :mod:`.http` — the streamable HTTP transport on ``/mcp`` with the bearer-token check;
- :mod:`.client_config` — ready-to-paste Claude Desktop and Cursor configuration.
"""
