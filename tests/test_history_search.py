"""Telegram's in-chat search through the gateway's history pager (``search=``).

The pager sends ``messages.search`` for a search and walks it as Telethon's
``iter_messages(search=...)`` does (same requests, offsets and stops), on the fake's
``messages.search``: every word of the query starts a word of the text, case-folded.
The fake's own bounds (``min_date``/``max_date``, ``min_id``/``max_id``, ``from_id``)
are checked with raw requests.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telethon.errors import SearchQueryEmptyError
from telethon.tl import functions, types

from tests.fakes.telegram import FakeTelegram
from tests.harness import session_options
from tests.test_history_read import telethon_args
from tgpilot.gateways.telegram.session import open_session

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CLUB = "bookclub"
LAST = 400


def text_of(n: int) -> str:
    """Every third message mentions apples (in varying case), the rest bananas."""
    if n % 3 == 0:
        return f"#{n}: Fresh APPLE pie, anyone?" if n % 2 else f"#{n} apples are in"
    return f"#{n}: banana bread"


def club_world() -> FakeTelegram:
    """Messages 1..400 (every seventh id deleted) from three members of a supergroup."""
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    members = [world.add_user(1001 + n, f"Member {n}") for n in range(3)]
    club = world.add_supergroup(1234567890, "Book Club", CLUB, members=members)
    for n in range(1, LAST + 1):
        if n % 7:
            world.add_message(
                club, n, text=text_of(n), date=T0 + timedelta(minutes=n), sender=members[n % 3]
            )
    world.add_message(1001, 1, text="an apple a day", date=T0, sender=1001)
    world.add_message(1001, 2, text="pineapple", date=T0 + timedelta(minutes=1), sender=1001)
    return world


APPLES = [n for n in range(LAST, 0, -1) if n % 7 and n % 3 == 0]
"""The ids "apple" finds, newest first (115 of them: more than one page)."""

WINDOWS: list[dict[str, Any]] = [
    {},
    {"limit": 150},
    {"limit": 100},
    {"limit": 7},
    {"offset_id": 120},
    {"offset_id": 300, "limit": 30},
    {"min_id": 200},
    {"min_id": 200, "offset_id": 260},
    {"until": T0 + timedelta(minutes=250)},
    {"until": T0 + timedelta(minutes=250), "limit": 20},
]


@pytest.mark.parametrize("window", WINDOWS, ids=[str(w) for w in WINDOWS])
async def test_search_pages_and_stops_match_telethons_iterator(
    tmp_path: Path, window: dict[str, Any]
) -> None:
    world = club_world()
    async with open_session(session_options(world, tmp_path)) as gateway:
        chat = await gateway.resolve_chat(CLUB)
        world.reset_counts()
        ours = [m.id async for m in gateway.history(chat, search="apple", **window)]
        our_pages = world.requests["SearchRequest"]
        assert world.requests["GetHistoryRequest"] == 0
        world.reset_counts()
        raw = gateway.client.iter_messages(
            chat.id, search="apple", wait_time=0, **telethon_args(window)
        )
        theirs = [m.id async for m in raw]
        their_pages = world.requests["SearchRequest"]
    assert ours == theirs
    assert our_pages == their_pages
    assert ours and set(ours) <= set(APPLES)


async def test_a_search_over_many_hits_is_newest_first_and_paged_by_hundreds(
    tmp_path: Path,
) -> None:
    world = club_world()
    async with open_session(session_options(world, tmp_path)) as gateway:
        chat = await gateway.resolve_chat(CLUB)
        world.reset_counts()
        found = [m async for m in gateway.history(chat, search="APPLE")]
    assert [m.id for m in found] == APPLES
    assert len(APPLES) > 100
    assert all("appl" in m.text.casefold() for m in found)
    assert world.requests["SearchRequest"] == math.ceil(len(APPLES) / 100)
    assert world.requests["GetHistoryRequest"] == 0


async def test_search_matches_word_starts_case_folded_and_needs_every_word(
    tmp_path: Path,
) -> None:
    world = club_world()
    async with open_session(session_options(world, tmp_path)) as gateway:
        club = await gateway.resolve_chat(CLUB)
        pies = [m.id async for m in gateway.history(club, search="fresh PIE")]
        inner = [m.id async for m in gateway.history(club, search="pple")]
        alice = await gateway.resolve_chat("1001")
        private = [m.text async for m in gateway.history(alice, search="apple")]
    assert pies == [n for n in APPLES if n % 2]
    assert inner == []
    assert private == ["an apple a day"]  # "pineapple" does not start with "apple"


async def test_since_ends_a_search_and_a_blank_search_reads_the_history(tmp_path: Path) -> None:
    world = club_world()
    async with open_session(session_options(world, tmp_path)) as gateway:
        chat = await gateway.resolve_chat(CLUB)
        world.reset_counts()
        since = T0 + timedelta(minutes=300)
        recent = [m.id async for m in gateway.history(chat, since=since, search="apple")]
        assert world.requests["SearchRequest"] == 1
        blank = [m.id async for m in gateway.history(chat, limit=5, search="  ")]
    assert recent == [n for n in APPLES if n >= 300]
    assert blank == [400, 398, 397, 396, 395]  # 399 was deleted
    assert world.requests["GetHistoryRequest"] == 1


async def test_the_fakes_search_honours_dates_ids_sender_and_refuses_a_blank_query(
    tmp_path: Path,
) -> None:
    world = club_world()
    async with open_session(session_options(world, tmp_path)) as gateway:
        client = gateway.client
        club = await gateway.resolve_chat(CLUB)
        peer = await client.get_input_entity(club.id)
        assert len([m async for m in gateway.history(club, limit=9)]) == 9  # meets the members
        poster = await client.get_input_entity(1001)  # sends every apple message
        quiet = await client.get_input_entity(1002)

        async def search(q: str = "apple", **bounds: Any) -> Any:
            request = functions.messages.SearchRequest(
                peer=peer, q=q, filter=types.InputMessagesFilterEmpty(),
                min_date=bounds.pop("min_date", None), max_date=bounds.pop("max_date", None),
                offset_id=bounds.pop("offset_id", 0), add_offset=bounds.pop("add_offset", 0),
                limit=bounds.pop("limit", 100), max_id=bounds.pop("max_id", 0),
                min_id=bounds.pop("min_id", 0), hash=0, from_id=bounds.pop("from_id", None),
            )  # fmt: skip
            return await client(request)

        dated = await search(
            min_date=T0 + timedelta(minutes=30), max_date=T0 + timedelta(minutes=60)
        )
        by_id = await search(min_id=30, max_id=60)
        paged = await search(min_id=30, max_id=60, offset_id=45, limit=2)
        shifted = await search(offset_id=45, add_offset=-2, limit=3)
        by_poster = await search(from_id=poster, limit=10)
        by_quiet = await search(from_id=quiet)
        with pytest.raises(SearchQueryEmptyError):
            await search(q=" ")
    between = [n for n in APPLES if 30 < n < 60]
    assert [m.id for m in dated.messages] == between
    assert [m.id for m in by_id.messages] == between and by_id.count == len(between)
    assert [m.id for m in paged.messages] == [n for n in between if n < 45][:2]
    assert paged.count == len(between)
    assert [m.id for m in shifted.messages] == [48, 45, 39]  # two newer than 45, then on
    assert [m.id for m in by_poster.messages] == APPLES[:10]
    assert by_quiet.messages == [] and by_quiet.count == 0
    assert world.unhandled == []
