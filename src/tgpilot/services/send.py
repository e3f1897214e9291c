"""``send``: one message, spelled out in full on the command line (DESIGN rule 4).

A single explicit action applies at once and is audited; ``--dry-run`` shows what would
be sent and sends nothing. The audit line records the chat, the new message id and the
options — never the text itself (it may be private), only its length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tgpilot.core.audit import AuditLog
from tgpilot.core.errors import TgpilotError, UsageError
from tgpilot.models import Chat

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway

DRY_RUN_CHARS = 200
ACTION = "telegram.send"


@dataclass(frozen=True)
class Outgoing:
    """What to send: validated before anything connects."""

    text: str
    reply_to: int | None = None
    silent: bool = False
    link_preview: bool = True

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise UsageError("nothing to send: the text is blank")


@dataclass(frozen=True)
class SendResult:
    """What was sent (or, in a dry run, would be)."""

    chat: Chat
    outgoing: Outgoing
    message_id: int | None = None
    date: datetime | None = None

    @property
    def dry_run(self) -> bool:
        return self.message_id is None

    def to_json(self) -> dict[str, Any]:
        return {
            "chat": {"id": self.chat.id, "title": self.chat.title, "type": self.chat.type.value},
            "message_id": self.message_id,
            "date": self.date.isoformat() if self.date else None,
            "reply_to": self.outgoing.reply_to,
            "silent": self.outgoing.silent,
            "dry_run": self.dry_run,
        }


async def send_text(
    gateway: TelegramGateway,
    chat: Chat,
    outgoing: Outgoing,
    *,
    dry_run: bool,
    audit: AuditLog,
    command: str,
    now: Callable[[], datetime],
) -> SendResult:
    """Send ``outgoing`` to ``chat`` (or, with ``dry_run``, only say what would be sent)."""
    if dry_run:
        return SendResult(chat, outgoing)
    params = {
        "reply_to": outgoing.reply_to,
        "silent": outgoing.silent,
        "link_preview": outgoing.link_preview,
        "chars": len(outgoing.text),
    }
    try:
        message = await gateway.send_message(
            chat,
            outgoing.text,
            reply_to=outgoing.reply_to,
            silent=outgoing.silent,
            link_preview=outgoing.link_preview,
        )
    except TgpilotError as exc:
        audit.record(
            ts=now(), command=command, action=ACTION, chat_id=chat.id, params=params,
            result="failed", error=exc.message,
        )  # fmt: skip
        raise
    audit.record(
        ts=now(), command=command, action=ACTION, chat_id=chat.id, message_id=message.id,
        params=params, result="ok",
    )  # fmt: skip
    return SendResult(chat, outgoing, message.id, message.date)
