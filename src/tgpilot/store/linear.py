"""The Linear tables of the store: the mirror, its watermarks, and ``linear_links``.

:class:`LinearMirrorRepository` writes what ``linear mirror`` fetched (spec
linear-and-bots.md §1.7): rows are upserted by Linear id in batches of
:data:`~tgpilot.store.store.BATCH_SIZE`, each batch read back first (one SELECT) so
that only new and changed rows are written — a rerun over unchanged data writes
nothing, and :class:`RowCounts` says what was written. The association tables
(``linear_project_teams``, ``linear_issue_labels``) are made to hold exactly the pairs
given for each owner. Watermarks (``linear_mirror_state``) remember, per entity and
scope, the newest ``updatedAt`` stored.

:class:`LinearLinkRepository` keeps which external thing made which issue
(``linear_links``): a key is reserved *before* the create — a second reservation of
the same key gets the stored link back instead — and the issue id attached after;
a failed create releases its reservation. The chat listener, ``linear sync`` and
``linear from-chats`` all go through it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Table, delete, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tgpilot.core.clock import Clock, SystemClock
from tgpilot.store.batches import Row, chunked, classify, last_by_key
from tgpilot.store.repository import Repository
from tgpilot.store.schema import (
    LINEAR_EXTERNAL_KEY_LENGTH,
    LINEAR_SOURCE_LENGTH,
    linear_issue_labels,
    linear_issues,
    linear_labels,
    linear_links,
    linear_mirror_state,
    linear_project_teams,
    linear_projects,
    linear_states,
    linear_teams,
    linear_users,
)
from tgpilot.store.types import as_utc
from tgpilot.store.upsert import upsert_statement

if TYPE_CHECKING:
    from tgpilot.store.store import Store

MirrorEntity = Literal["teams", "users", "labels", "states", "projects", "issues"]
Association = Literal["project_teams", "issue_labels"]

MIRROR_TABLES: dict[MirrorEntity, Table] = {
    "teams": linear_teams,
    "users": linear_users,
    "labels": linear_labels,
    "states": linear_states,
    "projects": linear_projects,
    "issues": linear_issues,
}
"""The mirror table of each entity, in the order the mirror writes them."""

ASSOCIATIONS: dict[Association, tuple[Table, str, str]] = {
    "project_teams": (linear_project_teams, "project_id", "team_id"),
    "issue_labels": (linear_issue_labels, "issue_id", "label_id"),
}
"""Each association table with its owner and member columns."""

MIRROR_BATCH_SIZE = 1000
"""Rows per transaction (DESIGN "Performance habits")."""

WORKSPACE_SCOPE = "*"
"""The watermark scope of a fetch over the whole workspace (else a team id)."""


@dataclass(frozen=True)
class RowCounts:
    """What one write did: rows inserted, updated, deleted, and left as they were."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    def __add__(self, other: RowCounts) -> RowCounts:
        return RowCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.deleted + other.deleted,
            self.unchanged + other.unchanged,
        )

    @property
    def written(self) -> int:
        """Rows actually written (inserted, updated or deleted)."""
        return self.inserted + self.updated + self.deleted


@dataclass(frozen=True)
class LinkRecord:
    """One row of ``linear_links``; ``issue_id`` is None while the create is pending."""

    source: str
    external_key: str
    issue_id: str | None
    fingerprint: str | None
    created_at: datetime

    @property
    def pending(self) -> bool:
        return self.issue_id is None


@dataclass(frozen=True)
class Reservation:
    """The outcome of :meth:`LinearLinkRepository.reserve`: ``reserved`` when this call
    took the key (the caller creates the issue), else ``link`` is the row already there."""

    reserved: bool
    link: LinkRecord


class _Repository(Repository):
    """A repository of one open store that stamps rows with its clock."""

    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        super().__init__(store)
        self._clock = clock or SystemClock()

    def _now(self) -> datetime:
        return as_utc(self._clock.now())


class LinearMirrorRepository(_Repository):
    """Writes and reads the Linear mirror tables of one open store."""

    async def upsert(
        self, entity: MirrorEntity, rows: Sequence[Row], *, batch_size: int = MIRROR_BATCH_SIZE
    ) -> RowCounts:
        """Insert or update ``rows`` (every column but ``synced_at``) of ``entity`` by id;
        a row equal to the stored one is not written."""
        table = MIRROR_TABLES[entity]
        compared = [c.name for c in table.columns if c.name not in ("id", "synced_at")]
        total = RowCounts()
        async with self._guard(f"mirroring Linear {entity}"):
            for batch in chunked(rows, batch_size):
                incoming = last_by_key(batch, lambda row: str(row["id"]))
                async with self._writer.begin() as conn:
                    result = await conn.execute(select(table).where(table.c.id.in_(list(incoming))))
                    stored = {str(r["id"]): dict(r) for r in result.mappings()}
                    classified = classify(incoming, stored, lambda new, _old: new, compared)
                    if classified.writes:
                        now = self._now()
                        writes = [{**row, "synced_at": now} for row in classified.writes]
                        await conn.execute(upsert_statement(self._backend, table), writes)
                total += RowCounts(classified.inserted, classified.updated, 0, classified.unchanged)
        return total

    async def sync_members(
        self,
        association: Association,
        members: Mapping[str, Iterable[str]],
        *,
        batch_size: int = MIRROR_BATCH_SIZE,
    ) -> RowCounts:
        """Make ``association`` hold exactly ``members[owner]`` for every owner given
        (other owners are left alone): missing pairs inserted, extra ones deleted."""
        table, owner_column, member_column = ASSOCIATIONS[association]
        owner, member = table.c[owner_column], table.c[member_column]
        wanted = {key: set(values) for key, values in members.items()}
        total = RowCounts()
        async with self._guard(f"mirroring Linear {association.replace('_', ' ')}"):
            for owners in chunked(list(wanted), batch_size):
                async with self._writer.begin() as conn:
                    result = await conn.execute(
                        select(owner, member).where(owner.in_(list(owners)))
                    )
                    stored = {(str(o), str(m)) for o, m in result.all()}
                    want = {(o, m) for o in owners for m in wanted[o]}
                    missing, extra = sorted(want - stored), sorted(stored - want)
                    if extra:
                        await conn.execute(delete(table).where(tuple_(owner, member).in_(extra)))
                    if missing:
                        now = self._now()
                        await conn.execute(
                            insert(table),
                            [
                                {owner_column: o, member_column: m, "synced_at": now}
                                for o, m in missing
                            ],
                        )
                total += RowCounts(len(missing), 0, len(extra), len(want & stored))
        return total

    async def watermark(
        self, entity: MirrorEntity, scope: str = WORKSPACE_SCOPE
    ) -> datetime | None:
        """The newest ``updatedAt`` stored for ``entity`` in ``scope`` (None: never)."""
        statement = select(linear_mirror_state.c.watermark).where(
            (linear_mirror_state.c.entity == entity) & (linear_mirror_state.c.scope == scope)
        )
        async with self._guard("reading a Linear watermark"), self._engine.connect() as conn:
            value = (await conn.execute(statement)).scalar()
        return as_utc(value) if value is not None else None

    async def advance_watermark(self, entity: MirrorEntity, scope: str, newest: datetime) -> bool:
        """Move the watermark of ``entity`` in ``scope`` up to ``newest`` (never back);
        True if a row was written."""
        newest = as_utc(newest)
        where = (linear_mirror_state.c.entity == entity) & (linear_mirror_state.c.scope == scope)
        async with self._guard("saving a Linear watermark"), self._writer.begin() as conn:
            stored = (
                await conn.execute(select(linear_mirror_state.c.watermark).where(where))
            ).scalar()
            if stored is not None and as_utc(stored) >= newest:
                return False
            row = {"entity": entity, "scope": scope, "watermark": newest, "synced_at": self._now()}
            await conn.execute(upsert_statement(self._backend, linear_mirror_state), [row])
        return True

    async def totals(self) -> dict[MirrorEntity, int]:
        """Rows stored per mirror table."""
        counts: dict[MirrorEntity, int] = {}
        async with self._guard("counting the Linear mirror"), self._engine.connect() as conn:
            for entity, table in MIRROR_TABLES.items():
                counts[entity] = int(
                    (await conn.execute(select(func.count()).select_from(table))).scalar_one()
                )
        return counts

    async def issues_by_state_type(self, team_ids: Sequence[str] | None = None) -> dict[str, int]:
        """Stored issues per workflow-state type (``unknown`` for a state not mirrored),
        of the teams given (None: all)."""
        state_type = func.coalesce(linear_states.c.type, "unknown")
        statement = (
            select(state_type, func.count())
            .select_from(
                linear_issues.outerjoin(
                    linear_states, linear_states.c.id == linear_issues.c.state_id
                )
            )
            .group_by(state_type)
        )
        if team_ids is not None:
            statement = statement.where(linear_issues.c.team_id.in_(list(team_ids)))
        async with self._guard("counting Linear issues"), self._engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return {str(kind): int(count) for kind, count in sorted(rows)}


def _link(row: Mapping[Any, Any]) -> LinkRecord:
    return LinkRecord(
        source=row["source"],
        external_key=row["external_key"],
        issue_id=row["issue_id"],
        fingerprint=row["fingerprint"],
        created_at=as_utc(row["created_at"]),
    )


def _check_key(source: str, external_key: str) -> None:
    if not source or len(source) > LINEAR_SOURCE_LENGTH:
        raise ValueError(f"a link source is 1–{LINEAR_SOURCE_LENGTH} characters: {source!r}")
    if not external_key or len(external_key) > LINEAR_EXTERNAL_KEY_LENGTH:
        raise ValueError(
            f"a link key is 1–{LINEAR_EXTERNAL_KEY_LENGTH} characters: {external_key!r}"
        )


class LinearLinkRepository(_Repository):
    """``linear_links`` of one open store (see the module docstring)."""

    @staticmethod
    def _where(source: str, external_key: str) -> Any:
        return (linear_links.c.source == source) & (linear_links.c.external_key == external_key)

    async def _read(
        self, conn: AsyncConnection, source: str, external_key: str
    ) -> LinkRecord | None:
        statement = select(linear_links).where(self._where(source, external_key))
        row = (await conn.execute(statement)).mappings().first()
        return _link(row) if row is not None else None

    async def reserve(
        self, source: str, external_key: str, fingerprint: str | None = None
    ) -> Reservation:
        """Take ``(source, external_key)`` for a create about to happen. If the key is
        already stored (pending or attached), nothing is written and that link comes back
        with ``reserved`` False — so two deliveries of one command never both create."""
        _check_key(source, external_key)
        row = {
            "source": source,
            "external_key": external_key,
            "issue_id": None,
            "fingerprint": fingerprint,
            "created_at": self._now(),
        }
        async with self._guard("reserving a Linear link"):
            try:
                async with self._writer.begin() as conn:
                    await conn.execute(insert(linear_links), [row])
            except IntegrityError:
                async with self._engine.connect() as conn:
                    existing = await self._read(conn, source, external_key)
                if existing is None:  # released in between: a rare race, report it as taken
                    raise
                return Reservation(False, existing)
        return Reservation(True, _link(row))

    async def attach(self, source: str, external_key: str, issue_id: str) -> None:
        """Record the issue a reserved key made."""
        statement = (
            update(linear_links).where(self._where(source, external_key)).values(issue_id=issue_id)
        )
        async with self._guard("attaching a Linear link"), self._writer.begin() as conn:
            result = await conn.execute(statement)
        if result.rowcount == 0:
            raise KeyError(f"no Linear link {source}/{external_key} to attach an issue to")

    async def link(
        self, source: str, external_key: str, issue_id: str, fingerprint: str | None = None
    ) -> None:
        """Store a link to an issue that already exists (adopted, e.g. found by its
        marker): inserted, or its issue id replaced."""
        _check_key(source, external_key)
        row = {
            "source": source,
            "external_key": external_key,
            "issue_id": issue_id,
            "fingerprint": fingerprint,
            "created_at": self._now(),
        }
        async with self._guard("storing a Linear link"), self._writer.begin() as conn:
            existing = await self._read(conn, source, external_key)
            if existing is None:
                await conn.execute(insert(linear_links), [row])
            elif existing.issue_id != issue_id:
                await conn.execute(
                    update(linear_links)
                    .where(self._where(source, external_key))
                    .values(issue_id=issue_id)
                )

    async def release(self, source: str, external_key: str) -> bool:
        """Drop a reservation whose create failed (only while pending); True if dropped."""
        statement = delete(linear_links).where(
            self._where(source, external_key) & linear_links.c.issue_id.is_(None)
        )
        async with self._guard("releasing a Linear link"), self._writer.begin() as conn:
            result = await conn.execute(statement)
        return bool(result.rowcount)

    async def get(self, source: str, external_key: str) -> LinkRecord | None:
        """The link of ``(source, external_key)``, or None."""
        async with self._guard("reading a Linear link"), self._engine.connect() as conn:
            return await self._read(conn, source, external_key)

    async def by_fingerprint(self, fingerprint: str, since: datetime) -> list[LinkRecord]:
        """Links with this text fingerprint created at or after ``since``, newest first."""
        statement = (
            select(linear_links)
            .where(
                (linear_links.c.fingerprint == fingerprint)
                & (linear_links.c.created_at >= as_utc(since))
            )
            .order_by(linear_links.c.created_at.desc(), linear_links.c.external_key)
        )
        async with self._guard("reading Linear links"), self._engine.connect() as conn:
            return [_link(row) for row in (await conn.execute(statement)).mappings()]

    async def for_source(self, source: str) -> list[LinkRecord]:
        """Every link of ``source``, by key."""
        statement = (
            select(linear_links)
            .where(linear_links.c.source == source)
            .order_by(linear_links.c.external_key)
        )
        async with self._guard("reading Linear links"), self._engine.connect() as conn:
            return [_link(row) for row in (await conn.execute(statement)).mappings()]
