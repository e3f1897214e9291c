"""Tasks found in chats → Linear issues (spec linear-and-bots.md §1.6).

The chat task finder (``tgpilot tasks``) supplies candidates; each becomes a planned
issue titled by the model's wording of the task or the message's first sentence (80
characters) and described by a quote with chat, sender, date and link. Before that,
three checks keep the backlog clean:

1. a ``linear_links`` row for ``tg`` / ``<chat_id>/<message_id>`` → ``skip`` (already
   made, by this command or by the ``!linear`` listener);
2. the same text fingerprint (lower-cased, links and mentions removed, punctuation
   stripped, whitespace collapsed, SHA-256) linked within ``linear.dedupe_days``, or met
   earlier in the same run → ``duplicate`` of that issue;
3. an embedding similarity of at least 0.9 to a task linked before → ``similar``,
   left out unless ``--include-similar``.

Applying reserves the link before each create (a deterministic client id, so a retried
create never makes two issues), records the task's vector for check 3, and links each
duplicate to its issue so a rerun says ``skip``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal, Protocol

from tgpilot.core.errors import TgpilotError
from tgpilot.gateways.linear.types import Issue
from tgpilot.models import Chat, ChatType
from tgpilot.services.linear.fingerprint import fingerprint
from tgpilot.services.linear.issues import IssueDraft, PlannedCreate
from tgpilot.services.linear.linked_create import create_once
from tgpilot.services.linear.listener import LINK_SOURCE, client_id, link_key

if TYPE_CHECKING:
    from tgpilot.services.ai.tasks.local import Signal
    from tgpilot.services.linear.issues import IssueService
    from tgpilot.store.linear import LinearLinkRepository

Verdict = Literal["create", "skip", "duplicate", "similar"]
TITLE_LENGTH = 80
SIMILAR_AT = 0.9
_SPACE = re.compile(r"\s+")
_SENTENCE = re.compile(r"(?<=[.!?…])\s")


def title_of(signal: Signal) -> str:
    """The model's wording of the task, else the message's first sentence; at most 80
    characters (cut at a word with an ellipsis)."""
    text = (signal.task or "").strip() or signal.text.strip()
    first = _SENTENCE.split(_SPACE.sub(" ", text.splitlines()[0] if text else ""), maxsplit=1)[0]
    first = first.strip() or "Task from chat"
    if len(first) <= TITLE_LENGTH:
        return first
    cut = first[: TITLE_LENGTH - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return (cut or first[: TITLE_LENGTH - 1]) + "…"


def message_url(chat: Chat | None, chat_id: int, message_id: int) -> str | None:
    """A t.me link where Telegram has one (public chats, supergroups and channels)."""
    if chat is not None and chat.username:
        return f"https://t.me/{chat.username}/{message_id}"
    if chat is not None and chat.type in (ChatType.SUPERGROUP, ChatType.CHANNEL):
        return f"https://t.me/c/{chat.raw_id or abs(chat_id)}/{message_id}"
    return None


def description_of(signal: Signal, chat: Chat | None, tz: tzinfo) -> str:
    """The message quoted, then chat, sender, date and link."""
    quote = "\n".join(f"> {line}" if line else ">" for line in signal.text.strip().splitlines())
    when = signal.date.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    lines = [quote, "", f"Chat: {signal.chat_title}", f"From: {signal.sender}", f"Date: {when}"]
    url = message_url(chat, signal.chat_id, signal.message_id)
    if url:
        lines.append(f"Link: {url}")
    if signal.due_date is not None:
        lines.append(f"Due (as asked): {signal.due_date.isoformat()}")
    return "\n".join(lines)


class TaskVectors(Protocol):
    """Where the vectors of linked tasks live (check 3)."""

    async def nearest(self, text: str) -> tuple[str, float] | None:
        """The linked task most like ``text``: ``(issue id, cosine)``, or None."""

    async def remember(self, key: str, issue_id: str, text: str) -> None:
        """Keep ``text``'s vector as the task linked to ``issue_id``."""


@dataclass(frozen=True)
class Candidate:
    """One task candidate and what the checks decided."""

    signal: Signal
    verdict: Verdict
    title: str
    fingerprint: str
    issue_id: str | None = None
    """The issue it is linked to or duplicates (skip, duplicate, similar)."""
    score: float | None = None
    create: PlannedCreate | None = None
    duplicate_of: str | None = None
    """For a duplicate of a task met earlier in this run: that task's link key."""

    @property
    def key(self) -> str:
        return link_key(self.signal.chat_id, self.signal.message_id)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "action": self.verdict,
            "chat_id": self.signal.chat_id,
            "chat": self.signal.chat_title,
            "message_id": self.signal.message_id,
            "title": self.title,
            "key": self.key,
            "fingerprint": self.fingerprint,
            "text": self.signal.text,
        }
        if self.issue_id:
            data["issue_id"] = self.issue_id
        if self.duplicate_of:
            data["duplicate_of"] = self.duplicate_of
        if self.score is not None:
            data["similarity"] = round(self.score, 3)
        if self.create is not None:
            data["input"] = self.create.input
        return data


@dataclass
class FromChatsPlan:
    """Every candidate with its verdict; ``include_similar`` turns ``similar`` into creates."""

    candidates: list[Candidate]
    include_similar: bool = False

    @property
    def to_create(self) -> list[Candidate]:
        wanted = {"create", "similar"} if self.include_similar else {"create"}
        return [c for c in self.candidates if c.verdict in wanted]

    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "skip": 0, "duplicate": 0, "similar": 0}
        for candidate in self.candidates:
            counts[candidate.verdict] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "linear.from_chats",
            "include_similar": self.include_similar,
            "counts": self.counts(),
            "candidates": [c.to_json() for c in self.candidates],
        }


@dataclass
class FromChatsResult:
    """What applying made: issues by link key, and failures with their reasons."""

    created: list[tuple[Candidate, Issue]] = field(default_factory=list)
    failed: list[tuple[Candidate, str]] = field(default_factory=list)


class FromChats:
    """Plans and applies issues for task candidates found in chats."""

    def __init__(
        self,
        issues: IssueService,
        links: LinearLinkRepository,
        vectors: TaskVectors | None,
        *,
        now: Callable[[], datetime],
        tz: tzinfo,
    ) -> None:
        self.issues = issues
        self.links = links
        self.vectors = vectors
        self.now = now
        self.tz = tz

    async def plan(
        self,
        signals: Sequence[Signal],
        chats: dict[int, Chat],
        *,
        team: str | None,
        include_similar: bool,
    ) -> FromChatsPlan:
        """Check every candidate (oldest first, so the first of two equal texts is the one
        created) and resolve the creates' inputs."""
        settings = self.issues.settings
        since = self.now() - timedelta(days=settings.dedupe_days)
        seen: dict[str, Candidate] = {}
        planned: list[Candidate] = []
        for signal in sorted(signals, key=lambda s: (s.date, s.chat_id, s.message_id)):
            title = title_of(signal)
            print_ = fingerprint(signal.text)
            key = link_key(signal.chat_id, signal.message_id)
            link = await self.links.get(LINK_SOURCE, key)
            if link is not None:
                planned.append(Candidate(signal, "skip", title, print_, link.issue_id))
                continue
            earlier = seen.get(print_)
            if earlier is not None:
                planned.append(
                    Candidate(signal, "duplicate", title, print_, duplicate_of=earlier.key)
                )
                continue
            same = [x for x in await self.links.by_fingerprint(print_, since) if x.issue_id]
            if same:
                planned.append(Candidate(signal, "duplicate", title, print_, same[0].issue_id))
                continue
            near = await self.vectors.nearest(signal.text) if self.vectors is not None else None
            verdict: Verdict = "create"
            issue_id = score = None
            if near is not None and near[1] >= SIMILAR_AT:
                verdict, issue_id, score = "similar", near[0], near[1]
            create = None
            if verdict == "create" or include_similar:
                draft = IssueDraft(
                    title=title,
                    description=description_of(signal, chats.get(signal.chat_id), self.tz),
                    team=team,
                    project=settings.project,
                    labels=list(settings.labels),
                )
                create = await self.issues.plan_create(draft, client_id=client_id(LINK_SOURCE, key))
            candidate = Candidate(signal, verdict, title, print_, issue_id, score, create)
            seen[print_] = candidate
            planned.append(candidate)
        return FromChatsPlan(planned, include_similar)

    async def apply(self, plan: FromChatsPlan) -> FromChatsResult:
        """Create the planned issues one by one; link duplicates of this run's creates."""
        result = FromChatsResult()
        made: dict[str, str] = {}
        for candidate in plan.to_create:
            assert candidate.create is not None
            try:
                issue = await self.create_linked(
                    candidate.key, candidate.fingerprint, candidate.signal.text, candidate.create
                )
            except TgpilotError as exc:
                result.failed.append((candidate, exc.message))
                continue
            made[candidate.key] = issue.id
            result.created.append((candidate, issue))
        await self.link_duplicates([c for c in plan.candidates if c.verdict == "duplicate"], made)
        return result

    async def create_linked(
        self, key: str, fingerprint: str, text: str, planned: PlannedCreate
    ) -> Issue:
        """Create ``planned`` as the issue of link ``key`` at most once
        (:func:`~tgpilot.services.linear.linked_create.create_once`; an attached key
        gives back its issue) and keep the text's vector for the similarity check."""
        made = await create_once(
            self.links,
            LINK_SOURCE,
            key,
            lambda: self.issues.apply_create(planned),
            fingerprint=fingerprint,
        )
        if isinstance(made, Issue):
            if self.vectors is not None:
                await self.vectors.remember(key, made.id, text)
            return made
        return await self.issues.get(made)

    async def link_duplicates(
        self, duplicates: Iterable[Candidate | Mapping[str, Any]], made: Mapping[str, str]
    ) -> None:
        """Link each duplicate's message to the issue it duplicates — one linked before,
        or one this run made (``made``: link key → issue id) — so a rerun skips it."""
        for item in duplicates:
            if isinstance(item, Candidate):
                key, issue_id, of, print_ = (
                    item.key, item.issue_id, item.duplicate_of, item.fingerprint
                )  # fmt: skip
            else:
                key, issue_id = str(item["key"]), item.get("issue_id")
                of, print_ = item.get("duplicate_of"), str(item.get("fingerprint") or "")
            target = issue_id or made.get(str(of or ""))
            if target:
                await self.links.link(LINK_SOURCE, key, str(target), print_)
