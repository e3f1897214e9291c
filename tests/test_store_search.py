"""``search --archive`` on SQLite, MariaDB and PostgreSQL (spec §3.4, scenario 24): the
portable syntax (words ANDed, "phrase", -word), Cyrillic, filters, ranking, and
queries full of FTS syntax characters that must be taken as plain text."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tgpilot.core.errors import UsageError
from tgpilot.models import Message, Sender
from tgpilot.store import SearchHit, Store
from tgpilot.store.search import parse_query

T0 = datetime(2025, 1, 1, tzinfo=UTC)
TEAM = -1001234567890
FRIEND = 5555
ALICE = Sender(101, "Alice Smith", "alice")
BORIS = Sender(102, "Борис Петров", "boris_p")

CORPUS: list[tuple[int, int, str, Sender]] = [
    (TEAM, 1, "Release notes for version 2.0 are ready", ALICE),
    (TEAM, 2, "The release draft is not final", BORIS),
    (TEAM, 3, "Draft of the release notes", ALICE),
    (TEAM, 4, "Привет, мир! Как дела?", BORIS),
    (TEAM, 5, "привет всем", ALICE),
    (TEAM, 6, "go to the shop", BORIS),
    (TEAM, 7, "going shopping tomorrow", ALICE),
    (TEAM, 8, "deadline deadline deadline deadline", BORIS),
    (TEAM, 9, "the deadline is near, and here are many other words to make it long", ALICE),
    (TEAM, 10, "foo-bar baz", BORIS),
    (TEAM, 11, 'Special: (parens) *stars* "quotes" 100% done_deal', ALICE),
    (TEAM, 12, "weekly sync", ALICE),
    (TEAM, 13, "weekly sync", BORIS),
    (TEAM, 14, "weekly sync", ALICE),
    (FRIEND, 1, "release party tonight 🎉", ALICE),
    (FRIEND, 2, "Привет from a friend", BORIS),
]


def corpus() -> list[Message]:
    return [
        Message(chat_id, mid, T0 + timedelta(days=n), text, sender=sender)
        for n, (chat_id, mid, text, sender) in enumerate(CORPUS)
    ]


async def _seed(url: str) -> None:
    async with await Store.open(url) as store:
        await store.upsert_messages(corpus(), fetched_at=T0)


@pytest.fixture(scope="module")
def corpus_url(module_store_url: str) -> Iterator[str]:
    """A database on each backend holding :data:`CORPUS`, seeded once per module."""
    asyncio.run(_seed(module_store_url))
    yield module_store_url


@pytest.fixture
async def store(corpus_url: str) -> AsyncIterator[Store]:
    async with await Store.open(corpus_url) as opened:
        yield opened


def keys(hits: list[SearchHit]) -> set[tuple[int, int]]:
    return {(h.chat_id, h.message_id) for h in hits}


def team(*ids: int) -> set[tuple[int, int]]:
    return {(TEAM, i) for i in ids}


# --------------------------------------------------------------------------- syntax


def test_parse_query_splits_words_phrases_and_exclusions() -> None:
    parsed = parse_query('release  "release notes" -draft -"not final" +ready foo-bar "open')
    assert parsed.include == ("release", "release notes", "ready", "foo-bar", "open")
    assert parsed.exclude == ("draft", "not final")


@pytest.mark.parametrize(
    "query", ["", "   ", "-draft", '-"release notes"', "- -", '""', "***", "🎉", "(*)"]
)
async def test_a_query_with_nothing_to_find_is_a_usage_error(store: Store, query: str) -> None:
    with pytest.raises(UsageError) as caught:
        await store.search(query)
    assert caught.value.exit_code == 2


async def test_words_are_anded(store: Store) -> None:
    assert keys(await store.search("release notes")) == team(1, 3)
    assert keys(await store.search("release")) == team(1, 2, 3) | {(FRIEND, 1)}


async def test_a_phrase_matches_words_in_sequence(store: Store) -> None:
    assert keys(await store.search('"release notes"')) == team(1, 3)
    assert keys(await store.search('"notes release"')) == set()
    assert keys(await store.search('"release draft" final')) == team(2)


async def test_minus_excludes_a_word_or_a_phrase(store: Store) -> None:
    assert keys(await store.search("release -draft")) == team(1) | {(FRIEND, 1)}
    assert keys(await store.search('release -"release notes"')) == team(2) | {(FRIEND, 1)}
    assert keys(await store.search("release -draft -party")) == team(1)


async def test_cyrillic_is_found_whatever_the_case(store: Store) -> None:
    expected = team(4, 5) | {(FRIEND, 2)}
    assert keys(await store.search("привет")) == expected
    assert keys(await store.search("ПРИВЕТ")) == expected
    assert keys(await store.search("Привет мир")) == team(4)
    assert keys(await store.search('"как дела"')) == team(4)


async def test_short_words_and_stop_words_match_whole_words(store: Store) -> None:
    # InnoDB does not index words under 3 letters nor "the": still found, as words
    assert keys(await store.search("go shop")) == team(6)
    assert keys(await store.search("go")) == team(6)
    assert keys(await store.search("the shop")) == team(6)
    assert keys(await store.search('"go to the shop"')) == team(6)
    assert keys(await store.search("shop -go")) == set()
    assert keys(await store.search("2.0")) == team(1)


# --------------------------------------------------------------------------- filters


async def test_chat_sender_and_date_filters(store: Store) -> None:
    assert keys(await store.search("release", chat_ids=[FRIEND])) == {(FRIEND, 1)}
    assert keys(await store.search("release", chat_ids=[TEAM])) == team(1, 2, 3)
    assert keys(await store.search("release", chat_ids=[TEAM, FRIEND], sender=101)) == team(
        1, 3
    ) | {(FRIEND, 1)}
    assert keys(await store.search("привет", sender="@boris_p")) == team(4) | {(FRIEND, 2)}
    assert keys(await store.search("привет", sender="@BORIS_P")) == team(4) | {(FRIEND, 2)}
    assert keys(await store.search("привет", sender="борис")) == team(4) | {(FRIEND, 2)}
    assert keys(await store.search("release", sender="SMITH")) == team(1, 3) | {(FRIEND, 1)}
    assert keys(await store.search("release", sender="102")) == team(2)
    assert keys(await store.search("release", sender="%")) == set()
    window = await store.search(
        "release", since=T0 + timedelta(days=1), until=T0 + timedelta(days=2)
    )
    assert keys(window) == team(2)  # since inclusive, until exclusive


async def test_hits_carry_what_the_cli_prints(store: Store) -> None:
    (hit,) = await store.search("party")
    assert hit.chat_id == FRIEND and hit.message_id == 1
    assert hit.text == "release party tonight 🎉"
    assert hit.sender_name == "Alice Smith"
    assert hit.date == T0 + timedelta(days=14) and hit.date.tzinfo is UTC
    assert isinstance(hit.rank, float)


# --------------------------------------------------------------------------- ranking


async def test_ranked_by_relevance_then_newest_first(store: Store) -> None:
    deadline = await store.search("deadline")
    assert [h.message_id for h in deadline] == [8, 9]
    assert deadline[0].rank > deadline[1].rank
    ties = await store.search("weekly sync")
    assert [h.message_id for h in ties] == [14, 13, 12]
    assert await store.search("release", limit=2) == (await store.search("release"))[:2]
    assert len(await store.search("release", limit=0)) == 4


# --------------------------------------------------------------------------- FTS syntax


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("(parens)", team(11)),
        ("*stars*", team(11)),
        ('quotes"', team(11)),
        ('"quotes', team(11)),
        ("100%", team(11)),
        ("done_deal", team(11)),
        ("foo-bar", team(10)),
        ("foo-bar -baz", set()),
        ("rel*", set()),
        ("release*", team(1, 2, 3) | {(FRIEND, 1)}),
        ("(release", team(1, 2, 3) | {(FRIEND, 1)}),
        ("release)", team(1, 2, 3) | {(FRIEND, 1)}),
        ("NEAR(release notes)", set()),
        ("release OR draft", set()),
        ("text:release", set()),
        ("^release", team(1, 2, 3) | {(FRIEND, 1)}),
        ("release +notes", team(1, 3)),
        ("'notes'", team(1, 3)),
        ("notes\\", team(1, 3)),
        ("notes;--", team(1, 3)),
        ("notes' OR '1'='1", set()),
        ("@release ~notes <draft >final", set()),
        ("party 🎉", {(FRIEND, 1)}),
    ],
)
async def test_fts_syntax_characters_are_plain_text(
    store: Store, query: str, expected: set[tuple[int, int]]
) -> None:
    assert keys(await store.search(query)) == expected


async def test_rebuilding_the_search_index_keeps_every_hit(store: Store) -> None:
    before = await store.search("release")
    await store.rebuild_search_index()  # SQLite: FTS5 'rebuild'; a no-op elsewhere
    assert await store.search("release") == before
