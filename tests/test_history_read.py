"""The gateway's history pager against Telethon's own ``iter_messages`` on the fake.

The gateway walks ``messages.getHistory`` itself (converting each page's raw messages
directly), so it must ask for the same pages and stop at the same places as Telethon's
iterator for every window; and it saves each sender to the session once per read.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import session_options
from tgpilot.gateways.telegram.session import open_session

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CLUB = "bookclub"


def club_world() -> FakeTelegram:
    """250 messages with gaps in the ids (every seventh id deleted) from three members."""
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    members = [world.add_user(1001 + n, f"Member {n}") for n in range(3)]
    club = world.add_supergroup(1234567890, "Book Club", CLUB, members=members)
    for n in range(1, 292):
        if n % 7:
            world.add_message(
                club, n, text=f"m{n}", date=T0 + timedelta(minutes=n), sender=members[n % 3]
            )
    return world


WINDOWS: list[dict[str, Any]] = [
    {},
    {"limit": 150},
    {"limit": 100},
    {"limit": 7},
    {"offset_id": 120},
    {"offset_id": 120, "limit": 30},
    {"min_id": 200},
    {"min_id": 200, "offset_id": 260},
    {"min_id": 119, "offset_id": 120},
    {"until": T0 + timedelta(minutes=100)},
    {"until": T0 + timedelta(minutes=100), "limit": 20},
]


def telethon_args(window: dict[str, Any]) -> dict[str, Any]:
    args = dict(window)
    if "until" in args:
        args["offset_date"] = args.pop("until")
    return args


@pytest.mark.parametrize("window", WINDOWS, ids=[str(w) for w in WINDOWS])
async def test_pages_and_stops_match_telethons_iterator(
    tmp_path: Path, window: dict[str, Any]
) -> None:
    world = club_world()
    async with open_session(session_options(world, tmp_path)) as gateway:
        chat = await gateway.resolve_chat(CLUB)
        world.reset_counts()
        ours = [m.id async for m in gateway.history(chat, **window)]
        our_pages = world.requests["GetHistoryRequest"]
        world.reset_counts()
        raw = gateway.client.iter_messages(chat.id, wait_time=0, **telethon_args(window))
        theirs = [m.id async for m in raw]
        their_pages = world.requests["GetHistoryRequest"]
    assert ours == theirs
    assert our_pages == their_pages


async def test_since_ends_the_walk_at_the_first_older_message(tmp_path: Path) -> None:
    world = club_world()
    async with open_session(session_options(world, tmp_path)) as gateway:
        chat = await gateway.resolve_chat(CLUB)
        world.reset_counts()
        since = T0 + timedelta(minutes=150)
        ids = [m.id async for m in gateway.history(chat, since=since)]
    assert ids == [n for n in range(291, 149, -1) if n % 7]
    assert world.requests["GetHistoryRequest"] == 2


async def test_each_sender_is_saved_to_the_session_once_per_read(tmp_path: Path) -> None:
    world = club_world()
    options = session_options(world, tmp_path)
    saved: list[int] = []
    async with open_session(options) as gateway:
        session = gateway.client.session
        save = session.process_entities

        def counting(tlo: Any) -> None:
            if session.save_entities:  # else the session writes nothing
                entities = list(tlo) if isinstance(tlo, list) else [*tlo.users, *tlo.chats]
                saved.extend(e.id for e in entities)
            save(tlo)

        chat = await gateway.resolve_chat(CLUB)
        session.process_entities = counting
        try:
            assert len([m async for m in gateway.history(chat)]) == 250
        finally:
            session.process_entities = save
    assert sorted(saved) == [1001, 1002, 1003, 1234567890]  # three pages, saved once each
    with sqlite3.connect(options.spec.session_path) as db:
        stored = {row[0] for row in db.execute("SELECT id FROM entities")}
    assert {1001, 1002, 1003} <= stored  # a later command can reach the senders by id
