"""Draft mode: answers kept for the owner's approval (spec ai.md §4.8, step 6).

The responder stores a ``pending`` draft and posts a note to Saved Messages.
``autoanswer drafts approve ID [--text …]`` and ``reject ID`` only change the draft's
status in the store (:func:`approve_draft`, :func:`reject_draft`). Approved drafts are
sent by whoever holds the session: a running ``tgpilot run`` (its
:class:`DraftCourier` looks every ``run.drafts_poll_s`` seconds) or, when no ``run``
holds it, the ``approve`` command itself (:class:`DraftSender`, under the session lock).
A sender first *claims* the draft (``approved`` → ``sending``, a compare-and-set in
the store), so it is never sent twice. The reply goes to the original message, or
into the chat if that message is gone. Pending drafts expire after 24 hours. Every
send is audited (without the text). A draft a killed process left ``sending`` is
marked ``failed`` ("interrupted") when the next ``run`` starts: whether Telegram got it
cannot be known, and sending it again could answer twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from tgpilot.core.audit import AuditLog
from tgpilot.core.clock import Clock
from tgpilot.core.errors import TgpilotError, UsageError
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.services.autoanswer.streaming import split_text
from tgpilot.store.autoanswer import AutoanswerRepository, DraftRecord

DRAFT_TTL = timedelta(hours=24)


def draft_notice(template: str, draft_id: int, chat_title: str, text: str) -> str:
    """The Saved Messages note for a new draft (``autoanswer.draft_notice``)."""
    return template.format_map({"id": draft_id, "chat": chat_title, "text": text})


async def approve_draft(
    repository: AutoanswerRepository, draft_id: int, clock: Clock, text: str | None = None
) -> DraftRecord:
    """Mark a pending (or already approved, unsent) draft approved, with ``text`` if given."""
    draft = await _existing(repository, draft_id)
    if text is not None and not text.strip():
        raise UsageError("--text: an empty reply cannot be sent")
    values = {"text": text} if text is not None else {}
    moved = await repository.move_draft(
        draft_id, ("pending", "approved"), "approved", clock.now(), **values
    )
    if not moved:
        raise UsageError(f"draft {draft_id} is {draft.status}: only pending drafts can be approved")
    approved = await repository.draft(draft_id)
    assert approved is not None
    return approved


async def reject_draft(repository: AutoanswerRepository, draft_id: int, clock: Clock) -> None:
    """Mark a pending or approved (unsent) draft rejected."""
    draft = await _existing(repository, draft_id)
    if not await repository.move_draft(draft_id, ("pending", "approved"), "rejected", clock.now()):
        raise UsageError(f"draft {draft_id} is {draft.status}: only pending drafts can be rejected")


async def _existing(repository: AutoanswerRepository, draft_id: int) -> DraftRecord:
    draft = await repository.draft(draft_id)
    if draft is None:
        raise UsageError(f"no draft {draft_id}", hint="tgpilot autoanswer drafts list")
    return draft


@dataclass
class DraftSender:
    """Sends approved drafts through one open session."""

    gateway: TelegramGateway
    repository: AutoanswerRepository
    audit: AuditLog
    clock: Clock
    command: str
    log: Callable[[str], None]

    async def send(self, draft: DraftRecord) -> bool:
        """Claim and send ``draft``; False if another sender claimed it first. A failure
        marks the draft ``failed`` (audited) and is raised."""
        now = self.clock.now()
        if not await self.repository.move_draft(draft.id, ("approved",), "sending", now):
            return False
        params: dict[str, object] = {"draft_id": draft.id, "chars": len(draft.text)}
        try:
            chat = await self.gateway.resolve_chat(str(draft.chat_id))
            original = await self.gateway.get_messages(chat, [draft.reply_to_id])
            reply_to = draft.reply_to_id if original and original[0] is not None else None
            ids: list[int] = []
            for piece in split_text(draft.text):
                sent = await self.gateway.send_message(
                    chat, piece, reply_to=reply_to, link_preview=False
                )
                ids.append(sent.id)
        except TgpilotError as exc:
            await self.repository.move_draft(
                draft.id, ("sending",), "failed", self.clock.now(), error=exc.message
            )
            self._audit(draft, params, "failed", exc.message)
            raise
        await self.repository.move_draft(
            draft.id, ("sending",), "sent", self.clock.now(), sent_at=self.clock.now(),
            sent_ids=ids,
        )  # fmt: skip
        params.update(reply_to=reply_to, message_ids=ids)
        self._audit(draft, params, "ok", None)
        self.log(f"sent approved draft {draft.id} to {draft.chat_title}")
        return True

    def _audit(
        self, draft: DraftRecord, params: dict[str, object], result: str, error: str | None
    ) -> None:
        self.audit.record(
            ts=self.clock.now(),
            command=self.command,
            action="telegram.autoanswer.draft_send",
            chat_id=draft.chat_id,
            message_id=draft.reply_to_id,
            params=params,
            result=result,
            error=error,
        )


@dataclass
class DraftCourier:
    """``tgpilot run``'s service: expires old drafts and sends approved ones."""

    sender: DraftSender
    poll_s: float
    name: str = "drafts"

    async def run(self) -> None:
        repository = self.sender.repository
        for draft in await repository.drafts(("sending",)):
            await repository.move_draft(
                draft.id, ("sending",), "failed", self.sender.clock.now(),
                error="interrupted while sending: check the chat before sending it by hand",
            )  # fmt: skip
        while True:
            await self.deliver()
            await asyncio.sleep(self.poll_s)  # real seconds: polling, not domain time

    async def deliver(self) -> int:
        """One round: expire, then send every approved draft; returns how many were sent."""
        repository = self.sender.repository
        await repository.expire_drafts(self.sender.clock.now())
        sent = 0
        for draft in await repository.drafts(("approved",)):
            with contextlib.suppress(TgpilotError):  # failed drafts are marked and audited
                sent += bool(await self.sender.send(draft))
        return sent
