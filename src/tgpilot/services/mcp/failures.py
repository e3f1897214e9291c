"""tgpilot's typed errors as MCP tool errors: one line, then a hint (spec §6 "Errors").

A tool never shows a stack trace, a token or a phone number to the agent: a
:class:`~tgpilot.core.errors.TgpilotError` (whose messages are secret-free by
contract) becomes its message plus ``hint: …``; anything else is logged on the
server's stderr and reported as an internal error naming only the tool.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from mcp.server.mcpserver.exceptions import ToolError

from tgpilot.core.errors import ChatNotFound, FloodWaitTooLong, TgpilotError

log = logging.getLogger("tgpilot.mcp")
T = TypeVar("T")

WRITING_DISABLED = "writing is disabled (set mcp.allow_write and mcp.write_allowlist)"


def chat_not_found(text: str, aliases: Sequence[str]) -> ToolError:
    """``Chat 'x' not found. Available: a, b`` (the configured aliases)."""
    available = ", ".join(aliases) if aliases else "no aliases configured"
    return ToolError(
        f"Chat '{text}' not found. Available: {available}\n"
        "hint: pass an alias, @username, t.me link or id (list_chats shows them)"
    )


def tool_error(exc: TgpilotError, aliases: Sequence[str]) -> ToolError:
    """The tool error an agent sees for ``exc``."""
    if isinstance(exc, ChatNotFound):
        return chat_not_found(exc.text, aliases)
    message = exc.message.splitlines()[0] if exc.message else type(exc).__name__
    hint = exc.hint
    if isinstance(exc, FloodWaitTooLong):
        hint = hint or f"Telegram asks to wait {exc.seconds} s; try again later"
    return ToolError(f"{message}\nhint: {hint}" if hint else message)


async def guarded(
    tool: str,
    aliases: Sequence[str],
    work: Awaitable[T],
    *,
    error: Callable[[str], Exception] = ToolError,
) -> T:
    """Await a tool's work, turning what it raises into the error the agent is shown
    (``error``: ``ToolError`` for tools, ``ResourceError`` for resources)."""
    try:
        return await work
    except ToolError:
        raise
    except TgpilotError as exc:
        log.info("%s failed: %s", tool, exc.message)
        raise error(str(tool_error(exc, aliases))) from None
    except Exception:
        log.exception("%s failed unexpectedly", tool)
        raise error(f"internal error in {tool}\nhint: see the server log (stderr)") from None
