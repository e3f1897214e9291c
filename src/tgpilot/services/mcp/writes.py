"""Write gating for the MCP tools (spec §6 "Writes").

A write passes three gates before it reaches Telegram: ``mcp.allow_write`` (off: the
write tools are not even listed, and a direct call is refused), the chat being on
``mcp.write_allowlist`` (entries are resolved like any CHAT argument, once each), and
the pace (``mcp.write_rate`` per minute, aiolimiter). Each write then appends one audit
line — time, transport, client name from the handshake, tool, chat id, text or emoji,
message id and result — through :class:`McpAuditLog`, which the existing send and
react services write to as to any audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiolimiter import AsyncLimiter

from tgpilot.core.audit import AuditLog
from tgpilot.core.config.settings import McpSettings
from tgpilot.core.errors import TgpilotError, UsageError
from tgpilot.models import Chat
from tgpilot.services.mcp.failures import WRITING_DISABLED

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway

WRITE_TOOLS = frozenset({"send_message", "send_reaction"})


class WriteRefused(UsageError):
    """A write gate said no: writing is off, or the chat is not on the allowlist."""


@dataclass(frozen=True)
class Caller:
    """Who is calling: the transport and the client's name from the MCP handshake."""

    transport: str
    client: str


@dataclass(frozen=True)
class McpAuditLog(AuditLog):
    """The account's audit log, each line also naming the MCP caller, tool and content."""

    caller: Caller = Caller("stdio", "unknown")
    tool: str = ""
    content: dict[str, Any] = field(default_factory=dict)

    def record(self, **fields: Any) -> None:
        """:meth:`AuditLog.record`, with the caller, tool and content added to ``params``."""
        mcp = {
            "transport": self.caller.transport,
            "client": self.caller.client,
            "tool": self.tool,
            **self.content,
        }
        fields["params"] = {**(fields.get("params") or {}), **mcp}
        super().record(**fields)


class WriteGate:
    """Decides whether a write may happen, paces it, and names its audit log."""

    def __init__(self, settings: McpSettings, audit: AuditLog) -> None:
        self._settings = settings
        self._audit = audit
        self._limiter = AsyncLimiter(settings.write_rate, 60)
        self._allowed: dict[str, int | None] = {}

    @property
    def enabled(self) -> bool:
        return self._settings.allow_write

    def require_enabled(self) -> None:
        """Refuse every write while ``mcp.allow_write`` is off."""
        if not self._settings.allow_write:
            raise WriteRefused(WRITING_DISABLED)

    async def allows(self, gateway: TelegramGateway, chat: Chat) -> bool:
        """Whether the write tools may touch ``chat`` (writing on, chat allowlisted)."""
        if not self._settings.allow_write:
            return False
        for entry in self._settings.write_allowlist:
            if entry not in self._allowed:
                self._allowed[entry] = await self._resolve(gateway, entry)
            if self._allowed[entry] == chat.id:
                return True
        return False

    async def require_allowed(self, gateway: TelegramGateway, chat: Chat, asked: str) -> None:
        """Refuse a chat that no ``mcp.write_allowlist`` entry names."""
        if await self.allows(gateway, chat):
            return
        raise WriteRefused(
            f"chat {asked} is not on mcp.write_allowlist",
            hint="add it to mcp.write_allowlist in config.yml",
        )

    @staticmethod
    async def _resolve(gateway: TelegramGateway, entry: str) -> int | None:
        try:
            return (await gateway.resolve_chat(entry)).id
        except TgpilotError:
            return None  # an entry naming no chat allows nothing

    async def pace(self) -> None:
        """Wait for a slot under ``mcp.write_rate`` writes per minute."""
        await self._limiter.acquire()

    def audit(self, caller: Caller, tool: str, content: dict[str, Any]) -> McpAuditLog:
        """The audit log one write records itself in."""
        return McpAuditLog(
            self._audit.path, self._audit.account, caller=caller, tool=tool, content=content
        )
