"""The Linear tables on SQLite, MariaDB and PostgreSQL (spec linear-and-bots.md §1.7, §4):
mirror upserts that write only what changed, association tables kept exact,
watermarks, ``linear_links`` reservations, and the view ``linear_issues_flat``."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from tests.fakes.clock import FakeClock
from tgpilot.store import Store
from tgpilot.store.linear import LinearLinkRepository, LinearMirrorRepository, RowCounts

T0 = datetime(2026, 1, 5, 9, 30, 15, 123456, tzinfo=UTC)


def team(key: str, **changes: Any) -> dict[str, Any]:
    row = {"id": f"team-{key}", "key": key, "name": f"Team {key}", "description": None}
    return row | {"updated_at": T0} | changes


def issue(n: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": f"issue-{n}",
        "identifier": f"ENG-{n}",
        "number": n,
        "title": f"Issue {n}",
        "description": "Описание 🎉" if n % 2 else None,
        "priority": n % 5,
        "priority_label": "Normal",
        "estimate": 1.5,
        "team_id": "team-ENG",
        "state_id": "state-todo" if n % 3 else "state-done",
        "project_id": "project-web",
        "assignee_id": "user-ann" if n % 2 else None,
        "creator_id": "user-ann",
        "parent_id": None,
        "due_date": date(2026, 2, n % 28 + 1),
        "url": f"https://linear.app/acme/issue/ENG-{n}",
        "created_at": T0,
        "updated_at": T0 + timedelta(minutes=n),
        "started_at": None,
        "completed_at": None,
        "canceled_at": None,
        "archived_at": None,
    }
    return row | changes


async def seed_small_collections(mirror: LinearMirrorRepository) -> None:
    await mirror.upsert("teams", [team("ENG")])
    await mirror.upsert(
        "users",
        [{"id": "user-ann", "name": "Ann Lee", "display_name": "ann", "email": "ann@x.io",
          "active": True}],
    )  # fmt: skip
    await mirror.upsert(
        "states",
        [
            {"id": "state-todo", "team_id": "team-ENG", "name": "Todo", "type": "unstarted",
             "position": 1.0, "color": "#aaa"},
            {"id": "state-done", "team_id": "team-ENG", "name": "Done", "type": "completed",
             "position": 2.0, "color": "#0f0"},
        ],
    )  # fmt: skip
    await mirror.upsert(
        "labels",
        [
            {"id": f"label-{name}", "team_id": None, "name": name, "color": None,
             "parent_id": None, "archived_at": None}
            for name in ("bug", "backend", "urgent")
        ],
    )  # fmt: skip
    await mirror.upsert(
        "projects",
        [{"id": "project-web", "name": "Website", "description": "", "state": "started",
          "start_date": date(2026, 1, 1), "target_date": None, "progress": 0.25,
          "url": "https://linear.app/acme/project/web", "updated_at": T0, "archived_at": None}],
    )  # fmt: skip


def statements_on(store: Store) -> list[str]:
    """Every SQL statement the store's engine runs from now on."""
    seen: list[str] = []

    def record(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    return seen


async def test_mirror_upserts_write_only_what_changed(store: Store) -> None:
    mirror = LinearMirrorRepository(store)
    rows = [issue(n) for n in range(1, 2501)]
    first = await mirror.upsert("issues", rows)
    assert first == RowCounts(inserted=2500)

    seen = statements_on(store)
    again = await mirror.upsert("issues", rows)
    assert again == RowCounts(unchanged=2500) and again.written == 0
    assert "INSERT" not in seen and "UPDATE" not in seen
    assert seen.count("SELECT") == 3  # one per batch of 1,000

    edited = [*rows[:10], issue(7, title="Renamed", estimate=2.25), *rows[10:20]]
    assert await mirror.upsert("issues", edited) == RowCounts(updated=1, unchanged=19)
    async with store.engine.connect() as conn:
        title, estimate, updated = (
            await conn.execute(
                text("SELECT title, estimate, updated_at FROM linear_issues WHERE id = 'issue-7'")
            )
        ).one()
    assert (title, estimate) == ("Renamed", 2.25)
    assert str(updated).startswith("2026-01-05 09:37:15.123456")


async def test_association_tables_hold_exactly_the_pairs_given(store: Store) -> None:
    mirror = LinearMirrorRepository(store)
    labels = {"issue-1": ["label-bug", "label-backend", "label-urgent"], "issue-2": ["label-bug"]}
    assert await mirror.sync_members("issue_labels", labels) == RowCounts(inserted=4)
    assert (await mirror.sync_members("issue_labels", labels)).written == 0

    changed = {"issue-1": ["label-bug", "label-ops"]}  # issue-2 not given: left alone
    counts = await mirror.sync_members("issue_labels", changed)
    assert counts == RowCounts(inserted=1, deleted=2, unchanged=1)
    teams = {"project-web": ["team-ENG", "team-OPS"]}
    assert (await mirror.sync_members("project_teams", teams)).inserted == 2
    async with store.engine.connect() as conn:
        pairs = (
            await conn.execute(
                text("SELECT issue_id, label_id FROM linear_issue_labels ORDER BY 1, 2")
            )
        ).all()
    assert [tuple(p) for p in pairs] == [
        ("issue-1", "label-bug"),
        ("issue-1", "label-ops"),
        ("issue-2", "label-bug"),
    ]


async def test_watermarks_move_forward_only_per_entity_and_scope(store: Store) -> None:
    mirror = LinearMirrorRepository(store)
    assert await mirror.watermark("issues", "team-ENG") is None
    assert await mirror.advance_watermark("issues", "team-ENG", T0)
    assert not await mirror.advance_watermark("issues", "team-ENG", T0)
    assert not await mirror.advance_watermark("issues", "team-ENG", T0 - timedelta(days=1))
    assert await mirror.watermark("issues", "team-ENG") == T0
    assert await mirror.watermark("issues", "team-OPS") is None
    assert await mirror.watermark("projects") is None


async def test_the_flat_view_joins_team_state_project_assignee_and_labels(store: Store) -> None:
    mirror = LinearMirrorRepository(store)
    await seed_small_collections(mirror)
    await mirror.upsert("issues", [issue(1), issue(3)])
    await mirror.sync_members(
        "issue_labels", {"issue-1": ["label-urgent", "label-bug", "label-backend"]}
    )
    async with store.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT identifier, team_key, state_name, state_type, project_name, "
                    "assignee_name, labels, estimate FROM linear_issues_flat ORDER BY number"
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("ENG-1", "ENG", "Todo", "unstarted", "Website", "Ann Lee", "backend, bug, urgent", 1.5),
        ("ENG-3", "ENG", "Done", "completed", "Website", "Ann Lee", None, 1.5),
    ]
    assert await mirror.issues_by_state_type() == {"completed": 1, "unstarted": 1}
    assert (await mirror.totals())["labels"] == 3


async def test_a_key_is_reserved_once_and_a_second_reservation_gets_the_stored_link(
    store: Store,
) -> None:
    links = LinearLinkRepository(store)
    first = await links.reserve("tg", "-100123/42", "f" * 64)
    assert first.reserved and first.link.pending
    second = await links.reserve("tg", "-100123/42", "f" * 64)
    assert not second.reserved and second.link.pending

    await links.attach("tg", "-100123/42", "issue-1")
    third = await links.reserve("tg", "-100123/42")
    assert not third.reserved and third.link.issue_id == "issue-1"
    assert not await links.release("tg", "-100123/42")  # attached links stay
    link = await links.get("tg", "-100123/42")
    assert link is not None and link.issue_id == "issue-1"
    with pytest.raises(KeyError):
        await links.attach("tg", "nothing/1", "issue-2")


async def test_concurrent_reservations_of_one_key_let_exactly_one_create(store: Store) -> None:
    links = LinearLinkRepository(store)
    outcomes = await asyncio.gather(*(links.reserve("tg", "1/1") for _ in range(5)))
    assert sorted(o.reserved for o in outcomes) == [False, False, False, False, True]


async def test_a_failed_create_releases_its_key_so_a_retry_can_take_it(store: Store) -> None:
    links = LinearLinkRepository(store)
    assert (await links.reserve("roadmap", "web-login")).reserved
    assert await links.release("roadmap", "web-login")
    assert await links.get("roadmap", "web-login") is None
    assert (await links.reserve("roadmap", "web-login")).reserved


async def test_links_by_fingerprint_within_days_and_by_source(store: Store) -> None:
    clock = FakeClock(T0)
    links = LinearLinkRepository(store, clock)
    await links.reserve("tg", "1/1", "aa")
    clock.elapsed += timedelta(days=40).total_seconds()
    await links.reserve("tg", "2/2", "aa")
    await links.reserve("tg", "3/3", "bb")
    await links.link("roadmap", "web-login", "issue-9")
    await links.link("roadmap", "web-login", "issue-10")  # adopted again: replaced

    recent = await links.by_fingerprint("aa", clock.now() - timedelta(days=30))
    assert [link.external_key for link in recent] == ["2/2"]
    assert len(await links.by_fingerprint("aa", T0)) == 2
    assert [link.external_key for link in await links.for_source("tg")] == ["1/1", "2/2", "3/3"]
    [adopted] = await links.for_source("roadmap")
    assert adopted.issue_id == "issue-10" and adopted.created_at == clock.now()
