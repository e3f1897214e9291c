"""Names the user types turned into Linear ids (spec §1.2).

A Linear UUID passes through unchanged; otherwise a name is matched exactly and
case-insensitively against the workspace, read through the client's per-process
catalog. No match is :class:`~tgpilot.gateways.linear.errors.NotFound` (exit 2) with
close names; several is :class:`~tgpilot.gateways.linear.errors.Ambiguous` listing
them.

- team: key or name (default ``linear.team``); project: name among the team's;
- labels: repeatable or comma-separated, trimmed, empties dropped; the team's and the
  workspace's labels; unknown ones fail unless the caller creates them;
- state: a name, or a type (``backlog``, ``unstarted``, ``started``, ``completed``,
  ``canceled``, ``triage``) meaning the team's first state of that type;
- assignee: ``me``, email, display name or full name among the team's active members;
- priority: 0–4 or a word (none, urgent, high, normal/medium, low); anything else is a
  usage error, never clamped.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from tgpilot.core.errors import UsageError
from tgpilot.gateways.linear.catalog import WorkspaceCatalog
from tgpilot.gateways.linear.errors import Ambiguous, NotFound
from tgpilot.gateways.linear.types import Label, Project, State, Team, User

T = TypeVar("T")

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
PRIORITY_WORDS = {
    "none": 0,
    "no priority": 0,
    "urgent": 1,
    "high": 2,
    "normal": 3,
    "medium": 3,
    "low": 4,
}
STATE_TYPES = ("backlog", "unstarted", "started", "completed", "canceled", "triage")
CLOSE_NAMES = 3


def is_uuid(text: str) -> bool:
    """True for a Linear id (a UUID)."""
    return bool(UUID.match(text.strip()))


def parse_priority(value: str | int, *, option: str = "--priority") -> int:
    """0–4 from a number or a word; out of range or unknown is a usage error naming
    0–4 (never clamped)."""
    text = str(value).strip().lower()
    if text in PRIORITY_WORDS:
        return PRIORITY_WORDS[text]
    if re.fullmatch(r"[+-]?\d+", text) and 0 <= int(text) <= 4:
        return int(text)
    raise UsageError(
        f"{option}: priority must be 0–4 or a word, not {str(value).strip()!r}",
        hint="0 none, 1 urgent, 2 high, 3 normal (medium), 4 low",
    )


def split_labels(values: Iterable[str]) -> list[str]:
    """Label names from repeated and comma-separated values: trimmed, empties dropped,
    each name once (first spelling kept)."""
    names: list[str] = []
    seen: set[str] = set()
    for value in values:
        for part in value.split(","):
            name = part.strip()
            if name and name.lower() not in seen:
                seen.add(name.lower())
                names.append(name)
    return names


def pick(
    kind: str,
    text: str,
    items: Sequence[T],
    names: Callable[[T], Iterable[str]],
    render: Callable[[T], str],
) -> T:
    """The one item one of whose ``names`` equals ``text`` (case-insensitively)."""
    wanted = text.strip().lower()
    found = [item for item in items if wanted in {n.lower() for n in names(item) if n}]
    if len(found) == 1:
        return found[0]
    if found:
        raise Ambiguous(kind, text.strip(), [render(item) for item in found])
    every = sorted({n for item in items for n in names(item) if n})
    by_lower = {n.lower(): n for n in every}
    close = difflib.get_close_matches(wanted, list(by_lower), n=CLOSE_NAMES, cutoff=0.6)
    raise NotFound(kind, text.strip(), [by_lower[c] for c in close])


@dataclass(frozen=True)
class LabelChoice:
    """Labels resolved for one team: the existing ones, and names to create."""

    found: tuple[Label, ...]
    missing: tuple[str, ...]


class NameResolver:
    """Resolves names for one workspace (through the client's catalog)."""

    def __init__(self, catalog: WorkspaceCatalog, *, default_team: str | None = None) -> None:
        self.catalog = catalog
        self.default_team = default_team

    async def team(self, text: str | None) -> Team:
        """The team by key or name; ``None`` means ``linear.team``."""
        chosen = (text or "").strip() or (self.default_team or "").strip()
        if not chosen:
            raise UsageError("no team given", hint="pass --team KEY or set linear.team")
        if is_uuid(chosen):
            teams = await self.catalog.teams()
            return next((t for t in teams if t.id == chosen), Team(chosen, "", ""))
        by_key = await self.catalog.team_by_key(chosen.upper())
        if by_key is not None:
            return by_key
        teams = await self.catalog.teams()
        return pick("team", chosen, teams, lambda t: (t.key, t.name), lambda t: f"{t.key} {t.name}")

    async def project(self, team: Team, text: str) -> Project:
        """A project of ``team`` by name."""
        if is_uuid(text):
            return Project(text.strip(), text.strip())
        projects = await self.catalog.projects(team.id)
        return pick("project", text, projects, lambda p: (p.name,), lambda p: p.name)

    async def state(self, team: Team, text: str) -> State:
        """A state of ``team`` by name, or the first state of a type."""
        if is_uuid(text):
            return State(text.strip(), text.strip(), "", 0.0)
        states = await self.catalog.states(team.id)
        wanted = text.strip().lower()
        if wanted in STATE_TYPES and not any(s.name.lower() == wanted for s in states):
            of_type = [s for s in states if s.type == wanted]
            if of_type:
                return of_type[0]
        return pick("state", text, states, lambda s: (s.name,), lambda s: f"{s.name} ({s.type})")

    async def assignee(self, team: Team, text: str) -> User:
        """``me``, or an active member of ``team`` by email, display or full name."""
        wanted = text.strip()
        if is_uuid(wanted):
            return User(wanted, wanted, wanted, "", True)
        if wanted.lower() == "me":
            return await self.catalog.viewer()
        members = [u for u in await self.catalog.members(team.id) if u.active]
        return pick(
            "user", wanted, members, lambda u: (u.email, u.display_name, u.name), User.render
        )

    async def labels(
        self, team: Team, values: Iterable[str], *, allow_missing: bool
    ) -> LabelChoice:
        """Labels of ``team`` or the workspace; unknown names fail with close names
        unless ``allow_missing`` (then they are returned to be created)."""
        names = split_labels(values)
        if not names:
            return LabelChoice((), ())
        known = await self.catalog.labels(team.id)
        found: list[Label] = []
        missing: list[str] = []
        for name in names:
            if is_uuid(name):
                found.append(Label(name, name))
                continue
            same = [label for label in known if label.name.lower() == name.lower()]
            own = [label for label in same if label.team_id == team.id]
            chosen = own or same
            if len(chosen) == 1:
                found.append(chosen[0])
            elif chosen:
                raise Ambiguous("label", name, [label.name for label in chosen])
            elif allow_missing:
                missing.append(name)
            else:
                pick("label", name, known, lambda label: (label.name,), lambda label: label.name)
        return LabelChoice(tuple(found), tuple(missing))
