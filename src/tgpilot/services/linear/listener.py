"""The ``!linear`` handler hosted by ``tgpilot run`` (spec linear-and-bots.md §1.4).

:class:`LinearListener` reacts to **new** messages, incoming and outgoing, in the
chats of ``linear.listener.chats`` (every chat when empty); edits are ignored. A
message that is a command (see :mod:`tgpilot.services.linear.commands`) from an
allowed sender — the owner always; others only when listed in ``allowed_senders``;
anyone else is ignored, and logged — becomes an issue:

1. ``tg`` / ``<chat_id>/<message_id>`` is reserved in ``linear_links`` first; a
   redelivered or caught-up message whose issue exists creates nothing;
2. the issue is created through the CLI's :class:`IssueService` with the configured
   team, project, labels and default priority, under a client id derived from the
   key — so even a create interrupted by a crash (its link left pending) is retried
   into the same issue, never a second one — and its id is attached to the link;
3. the confirmation ``<identifier> <url>`` replies to the command, or goes to Saved
   Messages with ``confirm_in: saved``. A failure releases the key and answers with a
   short reason in English, never the exception's text (that goes to the log).

A bare prefix without a message to make an issue from gets the usage text instead.
:func:`build_listener` assembles the handler for ``tgpilot run``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from tgpilot.core.audit import AuditLog
from tgpilot.core.clock import Clock
from tgpilot.core.config.settings import LinearSettings
from tgpilot.core.errors import ConfigError, StoreError, TgpilotError, UsageError
from tgpilot.gateways.linear.client import LinearClient
from tgpilot.gateways.linear.errors import LinearAuthError, LinearUnavailable, RateLimited
from tgpilot.gateways.linear.types import Issue
from tgpilot.gateways.telegram.account_feed import AccountUpdate
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.models import Chat, ChatType, Message
from tgpilot.services.linear.commands import (
    ChatIssue,
    SourceMessage,
    draft_issue,
    parse_command,
    usage,
)
from tgpilot.services.linear.fingerprint import fingerprint
from tgpilot.services.linear.issues import IssueDraft, IssueService
from tgpilot.services.linear.linked_create import create_once
from tgpilot.services.rag.passages import message_link
from tgpilot.services.runtime.cursors import CursorBook
from tgpilot.services.runtime.handler import Delivery
from tgpilot.services.runtime.watches import start_cursor
from tgpilot.store import Store
from tgpilot.store.linear import LinearLinkRepository
from tgpilot.store.run_state import RunStateRepository

HANDLER = "linear"
LINK_SOURCE = "tg"
"""The ``linear_links`` source of issues made from Telegram messages."""
CATCH_UP_WINDOW = timedelta(hours=24)
"""After downtime, commands older than this (or than the handler's first start) are
not acted on."""


def link_key(chat_id: int, message_id: int) -> str:
    """The ``linear_links`` key of a Telegram message: ``<chat_id>/<message_id>``."""
    return f"{chat_id}/{message_id}"


def client_id(source: str, key: str) -> str:
    """The issue id sent for ``source``/``key``: a UUID v4 made from its hash, so a
    retried create of the same command is recognised by Linear as the same issue."""
    digest = hashlib.sha256(f"{source}:{key}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def failure_reason(exc: Exception) -> str:
    """The short, fixed reply for a failed create (never the exception's text)."""
    if isinstance(exc, RateLimited):
        return "Linear is rate-limiting requests; try again in a few minutes."
    if isinstance(exc, LinearAuthError):
        return "Linear refused the API key; check LINEAR_API_KEY."
    if isinstance(exc, ConfigError):
        return "Linear is not configured; run `tgpilot config check`."
    if isinstance(exc, UsageError):
        return "the configured Linear team, project or labels were not found."
    if isinstance(exc, LinearUnavailable):
        return "Linear is unreachable right now; try again later."
    if isinstance(exc, StoreError):
        return "the local database failed."
    return "Linear did not create the issue."


def source_of(message: Message, chat: Chat) -> SourceMessage:
    """The "Source message" of a replied-to message: text, sender, date and link."""
    link = None
    if chat.type in (ChatType.SUPERGROUP, ChatType.CHANNEL):
        link = message_link(chat.id, chat.raw_id, chat.username, message.id)
    sender = None
    if message.sender is not None:
        name = message.sender.name
        sender = f"{name} (@{message.sender.username})" if message.sender.username else name
    return SourceMessage(message.text, sender or None, message.date, link)


@dataclass
class ListenerCounts:
    """What the listener did since it started."""

    created: int = 0
    duplicates: int = 0
    ignored_senders: int = 0
    usage: int = 0
    failed: int = 0


@dataclass
class LinearListener:
    """The ``!linear`` message handler (see the module docstring)."""

    gateway: TelegramGateway
    settings: LinearSettings
    issues: IssueService
    links: LinearLinkRepository
    run_state: RunStateRepository
    clock: Clock
    log: Callable[[str], None]
    tz: tzinfo = UTC
    name: str = HANDLER
    manages_cursor: bool = False
    counts: ListenerCounts = field(default_factory=ListenerCounts)
    _owner: int | None = None
    _chats: dict[int, Chat] | None = None
    _started: datetime | None = None

    @property
    def prefix(self) -> str:
        return self.settings.listener.prefix

    async def start(self, cursors: CursorBook) -> None:
        self._owner = (await self.gateway.me()).id
        self._started = await self.run_state.handler_start(
            self.name, self.clock.now(), CATCH_UP_WINDOW.total_seconds()
        )
        await cursors.load(self.name)
        if self.settings.listener.chats:
            self._chats = {}
            for text in self.settings.listener.chats:
                chat = await self.gateway.resolve_chat(text)
                await start_cursor(cursors, self.name, self.gateway, chat)
                self._chats[chat.id] = chat
        where = ", ".join(c.title for c in self._chats.values()) if self._chats else "every chat"
        self.log(f"linear: listening for {self.prefix} in {where}")

    def scope(self) -> Mapping[int, Chat] | None:
        return self._chats

    def catch_up_since(self) -> datetime | None:
        now = self.clock.now()
        oldest = max(self._started or now, now - CATCH_UP_WINDOW)
        return oldest.replace(microsecond=0)  # Telegram dates are whole seconds

    def wants(self, update: AccountUpdate) -> bool:
        return (
            update.kind == "new"
            and not update.message.is_service
            and parse_command(update.message.text, self.prefix) is not None
        )

    def allowed(self, message: Message) -> bool:
        """The owner always; others only when listed in ``allowed_senders``."""
        if message.is_outgoing:
            return True
        sender = message.sender.id if message.sender is not None else None
        return sender is not None and (
            sender == self._owner or sender in self.settings.listener.allowed_senders
        )

    async def handle(self, delivery: Delivery) -> None:
        update = delivery.update
        chat, message = update.chat, update.message
        since = self.catch_up_since()
        if delivery.caught_up and since is not None and message.date < since:
            return
        command = parse_command(message.text, self.prefix)
        if command is None:
            return
        if not self.allowed(message):
            self.counts.ignored_senders += 1
            sender = message.sender.id if message.sender is not None else "unknown"
            self.log(
                f"linear: ignored {self.prefix} from sender {sender} in {chat.title} "
                f"({chat.id}), message #{message.id}: not an allowed sender"
            )
            return
        draft = draft_issue(command, await self._source(chat, message), self.tz)
        if draft is None:
            self.counts.usage += 1
            await self._reply(chat, message, usage(self.prefix))
            return
        await self._create(chat, message, draft)

    async def stop(self, timeout: float) -> None:
        return None

    async def _source(self, chat: Chat, message: Message) -> SourceMessage | None:
        if message.reply_to_id is None:
            return None
        [replied] = await self.gateway.get_messages(chat, [message.reply_to_id])
        if replied is None or not replied.text.strip():
            return None
        return source_of(replied, chat)

    async def _create(self, chat: Chat, message: Message, draft: ChatIssue) -> None:
        key = link_key(chat.id, message.id)
        try:
            made = await create_once(
                self.links,
                LINK_SOURCE,
                key,
                lambda: self._send(draft, key),
                fingerprint=fingerprint(draft.task_text),
            )
        except Exception as exc:  # every failure is answered; the key is released
            await self._failed(chat, message, key, exc)
            return
        if not isinstance(made, Issue):
            self.counts.duplicates += 1
            self.log(f"linear: {LINK_SOURCE}:{key} has its issue already; nothing created")
            return
        issue = made
        self.counts.created += 1
        self.log(f"linear: {issue.identifier} created from {chat.title} #{message.id}")
        await self._reply(chat, message, f"{issue.identifier} {issue.url}")

    async def _send(self, draft: ChatIssue, key: str) -> Issue:
        settings = self.settings
        request = IssueDraft(
            title=draft.title,
            description=draft.description,
            team=settings.team,
            project=settings.project,
            labels=tuple(settings.labels),
        )
        return await self.issues.create(request, client_id=client_id(LINK_SOURCE, key))

    async def _failed(self, chat: Chat, message: Message, key: str, exc: Exception) -> None:
        self.counts.failed += 1
        await self.links.release(LINK_SOURCE, key)
        reason = exc.message if isinstance(exc, TgpilotError) else type(exc).__name__
        self.log(f"linear: creating an issue from {chat.title} #{message.id} failed: {reason}")
        await self._reply(chat, message, f"Issue not created: {failure_reason(exc)}")

    async def _reply(self, chat: Chat, message: Message, text: str) -> None:
        if self.settings.listener.confirm_in == "saved":
            await self.gateway.note_to_self(f"{text}\n(from {chat.title}, message #{message.id})")
        else:
            await self.gateway.send_message(chat, text, reply_to=message.id, link_preview=False)


async def build_listener(
    *,
    settings: LinearSettings,
    gateway: TelegramGateway,
    store: Store,
    audit: AuditLog,
    clock: Clock,
    log: Callable[[str], None],
    stack: AsyncExitStack,
    command: str = "tgpilot run",
    tz: tzinfo = UTC,
) -> LinearListener:
    """The listener for ``tgpilot run`` with its Linear client (closed with ``stack``);
    a :class:`ConfigError` without ``LINEAR_API_KEY``, before anything starts."""
    client = await stack.enter_async_context(LinearClient.from_settings(settings, clock=clock))
    issues = IssueService(client, settings, clock=clock, audit=audit, command=command)
    return LinearListener(
        gateway=gateway,
        settings=settings,
        issues=issues,
        links=LinearLinkRepository(store, clock),
        run_state=RunStateRepository(store),
        clock=clock,
        log=log,
        tz=tz,
    )
