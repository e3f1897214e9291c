"""``tgpilot search CHAT PATTERN`` (live) on the fake Telegram.

Spec telegram-cli §3.4 and the live parts of scenario 24: regex hits oldest first,
highlighting on a terminal only, bad patterns, ``--from``, ``--outgoing``, windows,
JSON shape and round trips.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from tests.fakes.telegram import FakeTelegram, photo
from tests.harness import Cli
from tgpilot.cli.search_cmd import highlighted, hit_lines
from tgpilot.models import Chat, ChatType, Message, Sender
from tgpilot.services.search import (
    SearchHit,
    SearchQuery,
    Window,
    compile_pattern,
    find_spans,
    search_chat,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TEAM_ID = -1001234567890
HEADER = re.compile(r"^--- #(\d+) \[(\d{4}-\d\d-\d\d \d\d:\d\d)\] (.+) \(msg (\d+)\) ---$")


def team_world(extra: int = 0) -> FakeTelegram:
    world = FakeTelegram()
    me = world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice", "Smith", username="alice")
    bob = world.add_user(1002, "Bob", username="bobby_b")
    team = world.add_supergroup(1234567890, "Team Room", members=[alice, bob])
    say = [
        (alice, "Deadline is Friday"),
        (bob, "We hit a deadlock in the DB"),
        (me, "nothing to see"),
        (me, "the deadline moved to Monday"),
        (bob, "[bold]not markup[/bold] :smile: deadline"),
    ]
    for n, (who, text) in enumerate(say, 1):
        world.add_message(team, n, text=text, date=T0 + timedelta(hours=n), sender=who)
    world.add_message(team, 6, date=T0 + timedelta(hours=6), sender=alice, media=photo())
    world.add_message(team, 7, date=T0 + timedelta(hours=7), sender=alice, action="pin")
    for n in range(extra):
        world.add_message(
            team, 8 + n, text=f"bulk {n}", date=T0 + timedelta(days=1, minutes=n), sender=bob
        )
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli], clean_environment: Path) -> Cli:
    (clean_environment / "config.yml").write_text(
        f"chats:\n  team: {{id: {TEAM_ID}}}\n", encoding="utf-8"
    )
    return make_cli(team_world())


def headers(out: str) -> list[tuple[int, str, str, int]]:
    found = [HEADER.match(line) for line in out.splitlines()]
    return [(int(m[1]), m[2], m[3], int(m[4])) for m in found if m]


def test_scenario_24_case_insensitive_alternation(cli: Cli) -> None:
    result = cli("--tz", "UTC", "search", "team", "deadl(ine|ock)", "-i")
    assert result.code == 0, result.err
    assert "Deadline is Friday" in result.out
    assert "We hit a deadlock in the DB" in result.out
    assert "\x1b" not in result.out and "\x1b" not in result.err  # piped: no ANSI codes
    assert headers(result.out) == [
        (1, "2025-03-01 10:00", "Alice Smith", 1),
        (2, "2025-03-01 11:00", "Bob", 2),
        (3, "2025-03-01 13:00", "Me", 4),
        (4, "2025-03-01 14:00", "Bob", 5),
    ]
    assert "Found 4 matches in 7 messages" in result.err


def test_case_sensitive_by_default(cli: Cli) -> None:
    result = cli("search", "team", "Deadl")
    assert result.code == 0, result.err
    assert [h[3] for h in headers(result.out)] == [1]
    assert "Found 1 matches in 7 messages" in result.err


def test_user_text_is_not_markup(cli: Cli) -> None:
    result = cli("search", "team", "markup")
    assert result.code == 0, result.err
    assert "[bold]not markup[/bold] :smile: deadline" in result.out


def test_hit_text_follows_its_header(cli: Cli) -> None:
    result = cli("--tz", "UTC", "search", "team", "Friday")
    lines = result.out.splitlines()
    assert lines == ["--- #1 [2025-03-01 10:00] Alice Smith (msg 1) ---", "Deadline is Friday"]


def test_tz_renders_header_times(cli: Cli) -> None:
    result = cli("--tz", "Europe/Berlin", "search", "team", "Friday")
    assert headers(result.out)[0][1] == "2025-03-01 11:00"


def test_unclosed_group_is_exit_2_with_position_and_no_requests(cli: Cli) -> None:
    cli.world.reset_counts()
    result = cli("search", "team", "(unclosed")
    assert result.code == 2
    assert "error: invalid pattern: missing ), unterminated subpattern at position 0" in result.err
    assert cli.world.requests["GetHistoryRequest"] == 0


def test_bad_pattern_position_is_where_the_error_is(cli: Cli) -> None:
    result = cli("search", "team", "ab[c")
    assert result.code == 2
    assert "invalid pattern: unterminated character set at position 2" in result.err


@pytest.mark.parametrize(
    ("matcher", "ids"),
    [("@alice", [1]), ("ali", [1]), ("1002", [2, 5]), ("@Bob", []), ("bob", [2, 5])],
)
def test_from_uses_the_sender_matcher(cli: Cli, matcher: str, ids: list[int]) -> None:
    result = cli("search", "team", "dead", "-i", "--from", matcher)
    assert result.code == 0, result.err
    assert [h[3] for h in headers(result.out)] == ids


def test_outgoing_only_my_messages(cli: Cli) -> None:
    result = cli("search", "team", ".", "--outgoing")
    assert result.code == 0, result.err
    assert [h[3] for h in headers(result.out)] == [3, 4]


def test_since_until_window_in_tz(cli: Cli) -> None:
    # 11:00 .. 13:00 UTC is 12:00 .. 14:00 Berlin: messages 2 and 3 only (until exclusive).
    result = cli(
        "--tz", "Europe/Berlin", "search", "team", ".",
        "--since", "2025-03-01 12:00", "--until", "2025-03-01 14:00",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert [h[3] for h in headers(result.out)] == [2, 3]
    assert "in 2 messages" in result.err


def test_since_after_until_is_usage_error(cli: Cli) -> None:
    result = cli("search", "team", ".", "--since", "2025-03-02", "--until", "2025-03-01")
    assert result.code == 2
    assert "--since must be before --until" in result.err


def test_limit_reads_only_the_newest(cli: Cli) -> None:
    result = cli("search", "team", "dead", "-i", "--limit", "3")
    assert result.code == 0, result.err
    assert [h[3] for h in headers(result.out)] == [5]
    assert "Found 1 matches in 3 messages" in result.err


def test_json_shape(cli: Cli) -> None:
    result = cli("--tz", "UTC", "search", "team", "dead", "-i", "--json")
    assert result.code == 0, result.err
    rows = result.json()
    assert [r["message_id"] for r in rows] == [1, 2, 4, 5]
    assert rows[0] == {
        "chat_id": TEAM_ID,
        "message_id": 1,
        "date": "2025-03-01T10:00:00Z",
        "sender_id": 1001,
        "sender": "Alice Smith",
        "text": "Deadline is Friday",
        "spans": [[0, 4]],
    }
    assert rows[1]["spans"] == [[9, 13]]
    assert "Found 4 matches in 7 messages" in result.err


def test_json_spans_are_code_points(make_cli: Callable[..., Cli]) -> None:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice")
    world.add_supergroup(1234567890, "Team Room", "team_room", members=[alice])
    world.add_message(-1001234567890, 1, text="😀 Привет, привет!", date=T0, sender=alice)
    cli = make_cli(world)
    result = cli("search", "team_room", "привет", "-i", "--json")
    assert result.code == 0, result.err
    assert result.json()[0]["spans"] == [[2, 8], [10, 16]]


def test_no_hits_is_exit_0_with_empty_json(cli: Cli) -> None:
    result = cli("search", "team", "zebra", "--json")
    assert result.code == 0
    assert result.json() == []
    assert "Found 0 matches in 7 messages" in result.err


def test_marked_id_and_title_contains(cli: Cli) -> None:
    by_id = cli("search", str(TEAM_ID), "Friday")
    assert by_id.code == 0, by_id.err
    assert [h[3] for h in headers(by_id.out)] == [1]
    by_title = cli("search", "--title-contains", "team ro", "Friday")
    assert by_title.code == 0, by_title.err
    assert [h[3] for h in headers(by_title.out)] == [1]


def test_missing_pattern_is_usage_error(cli: Cli) -> None:
    result = cli("search", "team")
    assert result.code == 2
    assert "missing PATTERN" in result.err


@pytest.mark.parametrize(("limit", "requests"), [("0", 3), ("250", 3), ("150", 2), ("100", 1)])
def test_search_of_n_messages_costs_ceil_n_over_100_requests(
    make_cli: Callable[..., Cli], clean_environment: Path, limit: str, requests: int
) -> None:
    (clean_environment / "config.yml").write_text(
        f"chats:\n  team: {{id: {TEAM_ID}}}\n", encoding="utf-8"
    )
    # 250 messages with ids 1..250: the walk ends on a short page reaching id 1, as on
    # Telegram (a gap at the oldest end would cost Telethon one more, empty, page).
    cli = make_cli(team_world(extra=243))
    cli.world.reset_counts()
    result = cli("search", "team", "bulk", "--limit", limit)
    assert result.code == 0, result.err
    scanned = 250 if limit == "0" else int(limit)
    assert f"in {scanned} messages" in result.err
    assert cli.world.requests["GetHistoryRequest"] == requests


# --------------------------------------------------------------------------- rendering


def test_matches_are_bold_yellow_on_a_terminal_only() -> None:
    text = highlighted("a Deadline and a deadlock", ((2, 10), (17, 25)))
    assert [(s.start, s.end, str(s.style)) for s in text.spans] == [
        (2, 10, "bold yellow"),
        (17, 25, "bold yellow"),
    ]
    tty = io.StringIO()
    Console(file=tty, force_terminal=True, color_system="standard").print(text)
    assert "\x1b[1;33mDeadline\x1b[0m" in tty.getvalue()
    piped = io.StringIO()
    Console(file=piped).print(text)
    assert piped.getvalue() == "a Deadline and a deadlock\n"


def test_hit_lines_header_and_unknown_sender() -> None:
    message = Message(chat_id=-5, id=9, date=T0, text="x [y] z", sender=None)
    header, body = hit_lines(3, SearchHit(message, ((2, 5),)), UTC)
    assert header.plain == "--- #3 [2025-03-01 09:00] Unknown sender (msg 9) ---"
    assert body.plain == "x [y] z"
    named = Message(chat_id=-5, id=9, date=T0, text="x", sender=Sender(1, "[b]Al[/b]"))
    assert "[b]Al[/b]" in hit_lines(1, SearchHit(named, ()), UTC)[0].plain


def test_find_spans_skips_empty_matches() -> None:
    assert find_spans(compile_pattern("x*"), "abc") == ()
    assert find_spans(compile_pattern("q"), "abc") is None
    assert find_spans(compile_pattern("B", ignore_case=True), "abcb") == ((1, 2), (3, 4))


def test_pattern_starting_with_a_dash_after_double_dash(cli: Cli) -> None:
    result = cli("search", "team", "-i", "--", "-?deadlock")
    assert result.code == 0, result.err
    assert [h[3] for h in headers(result.out)] == [2]


# --------------------------------------------------------------------------- service


class ListSource:
    """A message source over a list (newest first), as the archive will be one."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages

    async def history(
        self,
        chat: Chat,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Message]:
        for n, message in enumerate(self.messages):
            if limit and n >= limit:
                return
            yield message


def test_service_runs_on_any_message_source_and_reports_progress() -> None:
    chat = Chat(id=-5, raw_id=5, type=ChatType.GROUP, title="G")
    ann = Sender(7, "Ann")
    messages = [
        Message(chat_id=-5, id=n, date=T0 + timedelta(minutes=n), text=f"n{n}", sender=ann)
        for n in range(120, 0, -1)
    ]
    seen: list[tuple[int, int | None]] = []
    query = SearchQuery(pattern=compile_pattern(r"n1\d$"), window=Window(limit=0))
    result = asyncio.run(
        search_chat(chat, ListSource(messages), query, progress=lambda d, t: seen.append((d, t)))
    )
    assert [h.message.id for h in result.hits] == list(range(10, 20))  # oldest first
    assert result.scanned == 120
    assert seen == [(50, None), (100, None), (120, None)]
    limited: list[tuple[int, int | None]] = []
    query = SearchQuery(pattern=compile_pattern("n"), window=Window(limit=60))
    asyncio.run(
        search_chat(chat, ListSource(messages), query, progress=lambda d, t: limited.append((d, t)))
    )
    assert limited == [(50, 60), (60, 60)]
