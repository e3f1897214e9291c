"""``moderate watch``: judge every new message of a chat as it arrives, warn or delete.

An event handler, not a poller: it follows the chat with
:func:`~tgpilot.services.follow.follow_chat`, so bursts and reconnects lose nothing. It
ignores messages from before its start, the account's own messages and empty texts.
Each message is judged by :meth:`Moderator.decide` (so, with ``moderation.llm_verdict``,
a model decides near the spam threshold). Each flagged message is logged as
``profanity from <sender>: [matches]`` or ``spam (score S) from <sender>``; without
``apply`` the actions are only logged as ``would warn``/``would delete``. A warning
replies with ``moderation.warn_template`` and never repeats the offending text;
deleting needs the "delete messages" right, checked when the watch starts. Actions are
at least one second apart and each is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

from tgpilot.core.audit import AuditLog
from tgpilot.core.clock import Clock
from tgpilot.core.errors import ConfigError, MissingAdminRight, TgpilotError
from tgpilot.models import Chat, Message
from tgpilot.services.follow import follow_chat
from tgpilot.services.moderation.verdict import Moderator, Verdict

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway

MIN_ACTION_GAP = 1.0
UNKNOWN_SENDER = "Unknown sender"


def _llm_note(verdict: Verdict) -> str:
    """``, LLM: high — reason`` when the model's verdict decided, else nothing."""
    if verdict.llm is None:
        return ""
    reason = f" — {verdict.llm.reason}" if verdict.llm.reason else ""
    return f", LLM: {verdict.llm.severity}{reason}"


@dataclass(frozen=True)
class WatchOptions:
    """What the watch does with a flagged message."""

    warn: bool = False
    delete: bool = False
    apply: bool = False
    warn_template: str = "⚠️ {sender}, please keep it civil."

    def warning_for(self, sender: str) -> str:
        """The warning text; only ``{sender}`` may be used in the template."""
        try:
            return self.warn_template.format_map({"sender": sender})
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(
                f"moderation.warn_template: only {{sender}} may be used ({exc})"
            ) from None


@dataclass
class WatchCounts:
    """What the watch has seen and done so far."""

    judged: int = 0
    flagged: int = 0
    warned: int = 0
    deleted: int = 0
    failed: int = 0


@dataclass
class ModerationWatch:
    """Judges and acts on each new message of one chat."""

    gateway: TelegramGateway
    chat: Chat
    moderator: Moderator
    options: WatchOptions
    audit: AuditLog
    clock: Clock
    log: Callable[[str], None]
    command: str = "tgpilot moderate watch"
    counts: WatchCounts = field(default_factory=WatchCounts)
    _me_id: int = 0
    _started: datetime | None = None
    _last_action: float | None = None

    async def start(self) -> int:
        """Check rights and the template, note the start; returns the newest id so far."""
        self.options.warning_for("x")
        if self.options.delete:
            rights = await self.gateway.my_rights(self.chat)
            if not rights.can_delete_messages:
                raise MissingAdminRight(
                    "delete messages", self.chat.title, hint="drop --delete, or ask an admin"
                )
        self._me_id = (await self.gateway.me()).id
        self._started = self.clock.now()
        newest = [m async for m in self.gateway.history(self.chat, limit=1)]
        return newest[0].id if newest else 0

    async def follow(self, after_id: int) -> NoReturn:
        """Judge every message newer than ``after_id`` (from :meth:`start`) until cancelled."""
        await follow_chat(self.chat, self.gateway, self.handle, after_id=after_id, clock=self.clock)

    async def handle(self, message: Message) -> None:
        """Judge one new message and act on it."""
        if self._started is not None and message.date < self._started.replace(microsecond=0):
            return
        own = message.is_outgoing or (
            message.sender is not None and message.sender.id == self._me_id
        )
        if own or message.is_service or not message.text.strip():
            return
        self.counts.judged += 1
        verdict = await self.moderator.decide(message.text, chat_name=self.chat.title)
        if verdict.llm_problem is not None:
            self.log(f"no LLM verdict on #{message.id} ({verdict.llm_problem}): the score decides")
        if not verdict.flagged:
            return
        self.counts.flagged += 1
        sender = message.sender.name if message.sender else UNKNOWN_SENDER
        if verdict.is_profane:
            self.log(f"profanity from {sender}: [{', '.join(verdict.profanity)}]")
        if verdict.is_spam:
            self.log(f"spam (score {verdict.spam.score}{_llm_note(verdict)}) from {sender}")
        if self.options.warn:
            await self._act("warn", message, verdict, sender)
        if self.options.delete:
            await self._act("delete", message, verdict, sender)

    async def _act(self, action: str, message: Message, verdict: Verdict, sender: str) -> None:
        if not self.options.apply:
            target = sender if action == "warn" else f"#{message.id}"
            self.log(f"would {action} {target}")
            return
        await self._pace()
        params: dict[str, Any] = {"reasons": verdict.reasons(), "spam_score": verdict.spam.score}
        if verdict.llm is not None:
            params["llm_verdict"] = {
                "severity": verdict.llm.severity,
                "reason": verdict.llm.reason,
            }
        try:
            if action == "warn":
                sent = await self.gateway.send_message(
                    self.chat, self.options.warning_for(sender), reply_to=message.id
                )
                params["warning_id"] = sent.id
                self.counts.warned += 1
            else:
                await self.gateway.delete_messages(self.chat, [message.id])
                self.counts.deleted += 1
        except TgpilotError as exc:
            self.counts.failed += 1
            self.log(f"could not {action} #{message.id}: {exc.message}")
            self._audit(action, message, params, "failed", exc.message)
            return
        self.log(f"{'warned' if action == 'warn' else 'deleted'} #{message.id}")
        self._audit(action, message, params, "ok", None)

    async def _pace(self) -> None:
        now = self.clock.monotonic()
        if self._last_action is not None and now - self._last_action < MIN_ACTION_GAP:
            await self.clock.sleep(MIN_ACTION_GAP - (now - self._last_action))
        self._last_action = self.clock.monotonic()

    def _audit(
        self, action: str, message: Message, params: dict[str, Any], result: str, error: str | None
    ) -> None:
        self.audit.record(
            ts=self.clock.now(),
            command=self.command,
            action=f"telegram.moderate.{action}",
            chat_id=self.chat.id,
            message_id=message.id,
            params=params,
            result=result,
            error=error,
        )
