"""The MCP tools as calls into the existing services (spec §6): no logic of their own.

Each method of :class:`McpTools` is one tool. It clamps the agent's numbers, resolves
the chat with the shared resolver (live) or the archive resolver (archive-only tools),
calls the service the CLI command of the same job calls — history reading, send,
react, export, store full text, semantic search, digest — and shapes the result with
:mod:`~tgpilot.services.mcp.records`. Telegram is reached only through the
:class:`~tgpilot.services.mcp.session.SessionProvider`; ``search_messages`` and
``list_chats`` without dialogs never touch it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tgpilot.core.clock import Clock
from tgpilot.core.config import Config
from tgpilot.core.errors import ConfigError, TelegramError, UsageError
from tgpilot.core.output import iso_time
from tgpilot.models import Chat, Message
from tgpilot.services.mcp import records
from tgpilot.services.mcp.metrics import McpMetrics
from tgpilot.services.mcp.session import SessionProvider
from tgpilot.services.mcp.writes import Caller, McpAuditLog, WriteGate

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.chat_profile import ChatProfile
    from tgpilot.gateways.telegram.gateway import TelegramGateway
    from tgpilot.store import Store

CONTEXT_MAX = 50
"""``get_message_context``: at most this many neighbours on each side."""
TEXT_MAX = 4096
"""The longest text ``send_message`` sends (Telegram's limit for one message)."""
RESOURCE_MESSAGES = 20
"""``tgpilot://chats/{alias}``: the latest messages it shows."""
EMPTY_TEXT = "Text message cannot be empty."

StoreOpener = Callable[[], AbstractAsyncContextManager["Store"]]


@dataclass
class McpDeps:
    """What the tools are built from (the CLI or ``tgpilot run`` supplies it)."""

    config: Config
    clock: Clock
    session: SessionProvider
    open_store: StoreOpener
    gate: WriteGate
    command: str
    """Who acts, for audit lines (``tgpilot mcp serve``, ``tgpilot run``)."""
    metrics: McpMetrics = field(default_factory=McpMetrics)
    """Where tool calls are counted (``tgpilot run``: in run's registry)."""


def clamp(value: int, low: int, high: int) -> int:
    """``value`` brought into ``[low, high]``."""
    return max(low, min(high, value))


class McpTools:
    """Every MCP tool, each one call into a service."""

    def __init__(self, deps: McpDeps) -> None:
        self.deps = deps
        self.config = deps.config

    @property
    def aliases(self) -> list[str]:
        return list(self.config.chats)

    def limit(self, value: int) -> int:
        """A tool's ``limit`` clamped to ``[1, mcp.max_limit]``."""
        return clamp(value, 1, self.config.mcp.max_limit)

    # ------------------------------------------------------------------ chats

    async def list_chats(self, include_dialogs: bool = False, limit: int = 50) -> dict[str, Any]:
        """The configured aliases, plus the newest dialogs on request."""
        chats = [
            {
                "name": name,
                "type": alias.type.value if alias.type else None,
                "id": alias.id,
                "title": alias.title,
                "username": alias.username,
                **records.UNTRUSTED,
            }
            for name, alias in self.config.chats.items()
        ]
        result: dict[str, Any] = {"chats": chats}
        if include_dialogs:
            async with self.deps.session.gateway() as gateway:
                dialogs = await gateway.list_dialogs(self.limit(limit))
            result["dialogs"] = [
                {
                    **records.chat_record(d.chat),
                    "unread": d.unread,
                    "last_message_at": iso_time(d.last_message_at) if d.last_message_at else None,
                }
                for d in dialogs
            ]
        return result

    async def get_chat_info(self, chat: str) -> dict[str, Any]:
        """Ids, type, title, username, members, description, archive coverage, writable."""
        async with self.deps.session.gateway() as gateway:
            found = await gateway.resolve_chat(chat)
            profile = await self._profile(gateway, found)
            writable = await self.deps.gate.allows(gateway, found)
        return {
            **records.chat_record(found),
            **records.chat_ids(found),
            "members": profile.members,
            "description": profile.about,
            "archive": await self._coverage(found),
            "writable": writable,
        }

    @staticmethod
    async def _profile(gateway: TelegramGateway, chat: Chat) -> ChatProfile:
        from tgpilot.gateways.telegram.chat_profile import ChatProfile

        try:
            return await gateway.chat_profile(chat)
        except TelegramError:
            return ChatProfile(None, None)  # a chat whose full info the account may not read

    async def _coverage(self, chat: Chat) -> dict[str, Any]:
        """How much of the chat the archive holds: count, oldest and newest dates."""
        async with self.deps.open_store() as store:
            count = await store.count_messages(chat.id)
            ends = []
            for newest_first in (False, True):
                async for message in store.iter_messages(
                    chat.id, limit=1, newest_first=newest_first
                ):
                    ends.append(iso_time(message.date))
        return {
            "messages": count,
            "oldest": ends[0] if ends else None,
            "newest": ends[1] if len(ends) > 1 else None,
        }

    # ------------------------------------------------------------------ reading

    async def get_messages(
        self,
        chat: str,
        limit: int = 50,
        before_id: int | None = None,
        after_id: int | None = None,
        since: str | None = None,
        until: str | None = None,
        search: str | None = None,
    ) -> dict[str, Any]:
        """The chat's messages, newest first, at most ``limit`` (clamped); with ``search``,
        those Telegram's in-chat search finds."""
        from tgpilot.services.sources import message_window

        tz = self.config.output.tz
        window = message_window(self.deps.clock.now(), since=since, until=until, tz=tz)
        async with self.deps.session.gateway() as gateway:
            resolved = await gateway.resolve_chat(chat)
            found = [
                message
                async for message in gateway.history(
                    resolved, since=window.since, until=window.until, limit=self.limit(limit),
                    min_id=after_id or 0, offset_id=before_id or 0, search=search,
                )
            ]  # fmt: skip
        return {
            "chat": records.chat_record(resolved),
            "messages": [records.message_record(m) for m in found],
        }

    async def get_message_context(
        self, chat: str, message_id: int, before: int = 5, after: int = 5
    ) -> dict[str, Any]:
        """The message and its neighbours (each side clamped to ``[0, 50]``), oldest first."""
        before, after = clamp(before, 0, CONTEXT_MAX), clamp(after, 0, CONTEXT_MAX)
        async with self.deps.session.gateway() as gateway:
            resolved = await gateway.resolve_chat(chat)
            [target] = await gateway.get_messages(resolved, [message_id])
            if target is None:
                raise UsageError(f"message {message_id} not found in {resolved.title}")
            older: list[Message] = []
            if before:
                history = gateway.history(resolved, offset_id=message_id, limit=before)
                older = [m async for m in history]
            newer = await gateway.messages_after(resolved, message_id, after)
        thread = [*reversed(older), target, *newer]
        return {
            "chat": records.chat_record(resolved),
            "message_id": message_id,
            "messages": [records.message_record(m) for m in thread],
        }

    async def search_messages(
        self, query: str, chat: str | None = None, mode: str = "fulltext", limit: int = 20
    ) -> dict[str, Any]:
        """The local archive searched by words (store full text) or meaning (Qdrant)."""
        from tgpilot.services.archive.chats import ArchiveChatResolver

        if mode not in ("fulltext", "semantic"):
            raise UsageError(f"mode must be fulltext or semantic, not {mode!r}")
        if not query.strip():
            raise UsageError("the query is empty")
        wanted = self.limit(limit)
        async with self.deps.open_store() as store:
            known = await store.known_chats()
            chat_ids = (
                [ArchiveChatResolver(known, self.config.chats).resolve(chat).id] if chat else []
            )
            if mode == "semantic":
                hits = await self._semantic(store, query, chat_ids, wanted)
            else:
                titles = {c.id: c.title for c in known}
                found = await store.search(query, chat_ids=chat_ids or None, limit=wanted)
                hits = [records.fulltext_hit(h, titles) for h in found]
        return {"query": query, "mode": mode, "hits": hits}

    async def _semantic(
        self, store: Store, query: str, chat_ids: list[int], limit: int
    ) -> list[dict[str, Any]]:
        from tgpilot.gateways.llm.embeddings_factory import create_embedder
        from tgpilot.gateways.vectors import open_vector_store
        from tgpilot.services.rag.search import SearchFilters, search_archive
        from tgpilot.store.llm import LLMRepository

        embedder = create_embedder(
            self.config, "rag", clock=self.deps.clock, recorder=LLMRepository(store)
        )
        async with embedder, open_vector_store(self.config) as vectors:
            passages = await search_archive(
                vectors,
                embedder,
                query,
                limit=limit,
                filters=SearchFilters(chat_ids=tuple(chat_ids)),
            )
        return [records.semantic_hit(p) for p in passages]

    # ------------------------------------------------------------------ jobs

    async def export_chat(
        self, chat: str, format: str = "md", since: str | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """The export service, writing into ``<data dir>/exports/mcp/``."""
        from tgpilot.services.export.run import ExportOptions, export_chat
        from tgpilot.services.sources import message_window

        tz = self.config.output.tz
        window = message_window(self.deps.clock.now(), since=since, tz=tz)
        count = self.config.limits.default if limit is None else clamp(limit, 0, 10**9)
        options = ExportOptions(format=format, limit=count, since=window.since)
        folder = self.config.home / "exports" / "mcp"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        async with self.deps.session.gateway() as gateway:
            resolved = await gateway.resolve_chat(chat)
            result = await export_chat(
                resolved, gateway, options, exports_dir=folder, tz=tz, now=self.deps.clock.now
            )
        return {
            "chat": records.chat_record(resolved),
            "path": str(result.path),
            "format": format,
            "messages": result.count,
        }

    async def digest(self, chat: str, since: str = "24h") -> dict[str, Any]:
        """The AI digest of the chat's messages since ``since`` (its local activity part
        alone when the model provider is ``local``)."""
        from tgpilot.services.ai.digest import DigestReport, compute_activity, report_object
        from tgpilot.services.sources import message_window, read_window

        tz = self.config.output.tz
        now = self.deps.clock.now()
        window = message_window(now, since=since, tz=tz)
        async with self.deps.session.gateway() as gateway:
            resolved = await gateway.resolve_chat(chat)
            read = await read_window(gateway, resolved, window, lambda m: not m.is_service)
        llm = None
        if read.messages:
            llm = await self._llm_digest(resolved, read.messages, window.since, now)
        activity = compute_activity(read.messages, since=window.since, until=now, tz=tz)
        report = DigestReport(
            chat=resolved, generated_at=now, source="telegram", activity=activity, llm=llm
        )
        return {"digest": report_object(report, tz), **records.UNTRUSTED}

    async def _llm_digest(
        self, chat: Chat, messages: tuple[Message, ...], since: Any, now: Any
    ) -> Any:
        from tgpilot.gateways.llm.factory import create_llm_client, load_config_catalogue
        from tgpilot.gateways.llm.resolve import MissingProviderKey, resolve_llm
        from tgpilot.services.ai.digest import digest_messages
        from tgpilot.services.ai.digest.activity import zone_name
        from tgpilot.services.ai.digest.report import period_text
        from tgpilot.services.prompts import PromptLibrary
        from tgpilot.store.llm import LLMRepository

        config, clock, tz = self.config, self.deps.clock, self.config.output.tz
        catalogue = load_config_catalogue(config)
        try:
            target = resolve_llm(config, "digest", catalogue)
        except MissingProviderKey as exc:
            raise ConfigError(
                f"provider not configured: {exc.message}",
                hint="set the provider's API key, or llm.provider: local for the activity digest",
            ) from None
        if target.provider == "local":
            return None
        prompt = PromptLibrary.from_config(config, clock=clock).load("digest")
        async with self.deps.open_store() as store:
            repository = LLMRepository(store)
            client = create_llm_client(
                target, catalogue, clock=clock, recorder=repository, cache=repository
            )
            async with client:
                return await digest_messages(
                    client, prompt, messages, tz=tz, chat_name=chat.title,
                    period=period_text(since, now, tz, zone_name(tz)),
                )  # fmt: skip

    # ------------------------------------------------------------------ writes

    async def send_message(
        self,
        caller: Caller,
        chat: str,
        text: str,
        reply_to: int | None = None,
        silent: bool = False,
    ) -> dict[str, Any]:
        """The send service, behind the write gates, audited with the caller."""
        from tgpilot.services.send import Outgoing, send_text

        gate = self.deps.gate
        gate.require_enabled()
        if not text.strip():
            raise UsageError(EMPTY_TEXT)
        if len(text) > TEXT_MAX:
            raise UsageError(f"the text is {len(text)} characters; at most {TEXT_MAX} are sent")
        outgoing = Outgoing(text, reply_to=reply_to, silent=silent)
        async with self.deps.session.gateway() as gateway:
            resolved = await gateway.resolve_chat(chat)
            await gate.require_allowed(gateway, resolved, chat)
            await gate.pace()
            result = await send_text(
                gateway, resolved, outgoing, dry_run=False,
                audit=gate.audit(caller, "send_message", {"text": text}),
                command=self.deps.command, now=self.deps.clock.now,
            )  # fmt: skip
        return {"chat_id": resolved.id, "message_id": result.message_id, "sent": True}

    async def send_reaction(
        self, caller: Caller, chat: str, message_id: int, emoji: str
    ) -> dict[str, Any]:
        """The react service's rules (adding beside the account's own reactions, never
        replacing them), behind the write gates, audited with the caller."""
        from tgpilot.services.actions.react import AUDIT_ACTION
        from tgpilot.services.actions.reactions import ExistingMode, reaction_item

        gate = self.deps.gate
        gate.require_enabled()
        async with self.deps.session.gateway() as gateway:
            resolved = await gateway.resolve_chat(chat)
            await gate.require_allowed(gateway, resolved, chat)
            spelled = (await gateway.allowed_reactions(resolved)).require(emoji, resolved.title)
            [message] = await gateway.get_messages(resolved, [message_id])
            if message is None:
                raise UsageError(f"message {message_id} not found in {resolved.title}")
            item, skip = reaction_item(
                message, resolved, spelled, ExistingMode.ADD, action=AUDIT_ACTION, reason="mcp"
            )
            audit = gate.audit(caller, "send_reaction", {"emoji": spelled})
            if skip is None:
                await gate.pace()
                await self._react(gateway, resolved, message_id, item.emoji, audit)
            else:
                audit.record(
                    ts=self.deps.clock.now(), command=self.deps.command, action=AUDIT_ACTION,
                    chat_id=resolved.id, message_id=message_id, result="skipped", error=skip,
                )  # fmt: skip
        return {
            "chat_id": resolved.id,
            "message_id": message_id,
            "reactions": list(item.emoji),
            "skipped": skip,
        }

    async def _react(
        self,
        gateway: TelegramGateway,
        chat: Chat,
        message_id: int,
        emoji: tuple[str, ...],
        audit: McpAuditLog,
    ) -> None:
        from tgpilot.core.errors import TgpilotError
        from tgpilot.services.actions.react import AUDIT_ACTION

        now, command = self.deps.clock.now, self.deps.command
        try:
            await gateway.send_reaction(chat, message_id, emoji)
        except TgpilotError as exc:
            audit.record(
                ts=now(), command=command, action=AUDIT_ACTION, chat_id=chat.id,
                message_id=message_id, result="failed", error=exc.message,
            )  # fmt: skip
            raise
        audit.record(
            ts=now(), command=command, action=AUDIT_ACTION, chat_id=chat.id,
            message_id=message_id, result="ok",
        )  # fmt: skip

    # ------------------------------------------------------------------ resources

    async def chat_resource(self, alias: str) -> dict[str, Any]:
        """One chat's info and its latest messages."""
        info = await self.get_chat_info(alias)
        latest = await self.get_messages(alias, limit=RESOURCE_MESSAGES)
        return {**info, "messages": latest["messages"]}
