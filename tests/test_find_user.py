"""``tgpilot find-user CHAT NAME`` (live, from recent senders) on the fake Telegram.

Spec telegram-cli §3.4: case-folded substring of name or username, most messages
first, ``No users matching "NAME" among N senders`` with exit 0, JSON rows. With
``--members``: Telegram's member search (supergroups page ``channels.getParticipants``
200 at a time; basic groups answer with ``messages.getFullChat``), merged with the
window's message counts; ``CHAT_ADMIN_REQUIRED`` on channels for non-admins.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telethon import errors
from telethon.tl import functions, types

from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli
from tgpilot.gateways.telegram.client import ClientSpec

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TEAM_ID = -1001234567890


def team_world() -> FakeTelegram:
    world = FakeTelegram()
    me = world.add_me(1000, "Me", phone="+15550001000")
    alice = world.add_user(1001, "Alice", "Smith", username="alice")
    alicia = world.add_user(1002, "Alicia", "Keys")
    bob = world.add_user(1003, "Bob", username="bobby_b")
    team = world.add_supergroup(1234567890, "Team Room", members=[alice, alicia, bob])
    script = [alice, bob, alice, alicia, me, bob, alice]
    for n, who in enumerate(script, 1):
        world.add_message(team, n, text=f"m{n}", date=T0 + timedelta(hours=n), sender=who)
    world.add_message(team, 8, date=T0 + timedelta(hours=8), sender=alicia, action="pin")
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli], clean_environment: Path) -> Cli:
    (clean_environment / "config.yml").write_text(
        f"chats:\n  team: {{id: {TEAM_ID}}}\n", encoding="utf-8"
    )
    return make_cli(team_world())


def rows(out: str) -> list[list[str]]:
    found = []
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) == 5 and cells[0].isdigit():
            found.append(cells)
    return found


def test_substring_of_name_most_messages_first(cli: Cli) -> None:
    result = cli("--tz", "UTC", "find-user", "team", "ALI")
    assert result.code == 0, result.err
    assert rows(result.out) == [
        ["1001", "@alice", "Alice Smith", "3", "2025-03-01 16:00"],
        ["1002", "", "Alicia Keys", "1", "2025-03-01 13:00"],
    ]
    assert "2 of 4 senders in 8 messages" in result.err
    assert "\x1b" not in result.out


def test_username_matches_and_leading_at_is_ignored(cli: Cli) -> None:
    assert [r[0] for r in rows(cli("find-user", "team", "bobby").out)] == ["1003"]
    assert [r[0] for r in rows(cli("find-user", "team", "@alice").out)] == ["1001"]


def test_none_matching_is_exit_0_with_sender_count(cli: Cli) -> None:
    result = cli("find-user", "team", "zed")
    assert result.code == 0, result.err
    assert 'No users matching "zed" among 4 senders' in result.out
    as_json = cli("find-user", "team", "zed", "--json")
    assert as_json.code == 0 and as_json.json() == []
    assert 'No users matching "zed" among 4 senders' in as_json.err


def test_json_rows(cli: Cli) -> None:
    result = cli("--tz", "UTC", "find-user", "team", "a", "--json")
    assert result.code == 0, result.err
    assert result.json() == [
        {
            "user_id": 1001,
            "username": "alice",
            "name": "Alice Smith",
            "messages": 3,
            "last_seen": "2025-03-01T16:00:00Z",
        },
        {
            "user_id": 1002,
            "username": None,
            "name": "Alicia Keys",
            "messages": 1,
            "last_seen": "2025-03-01T13:00:00Z",
        },
    ]


def test_ties_go_to_the_most_recently_seen(cli: Cli) -> None:
    result = cli("find-user", "team", "e", "--json")
    # Alice Smith 3; then Me (1, seen 14:00) before Alicia Keys (1, seen 13:00); Bob has no "e".
    assert [r["user_id"] for r in result.json()] == [1001, 1000, 1002]


def test_limit_reads_only_the_newest(cli: Cli) -> None:
    result = cli("find-user", "team", "b", "--limit", "3", "--json")
    # newest 3: the pin, m7 Alice, m6 Bob → Bob's one message in the window.
    assert [(r["user_id"], r["messages"]) for r in result.json()] == [(1003, 1)]


def test_empty_name_is_usage_error(cli: Cli) -> None:
    cli.world.reset_counts()
    assert cli("find-user", "team", " @ ").code == 2
    assert cli.world.requests["GetHistoryRequest"] == 0


def test_limit_counts_senders_in_the_window(cli: Cli) -> None:
    result = cli("find-user", "team", "zed", "--limit", "2")
    assert 'No users matching "zed" among 1 senders' in result.out  # the pin is not a sender


def test_title_contains(cli: Cli) -> None:
    result = cli("find-user", "--title-contains", "team room", "alicia", "--json")
    assert result.code == 0, result.err
    assert [r["user_id"] for r in result.json()] == [1002]


def test_missing_name_is_usage_error(cli: Cli) -> None:
    result = cli("find-user", "team")
    assert result.code == 2
    assert "missing NAME" in result.err


def members_world() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    people = [
        world.add_user(2000 + n, f"Member {n:03d}", username=f"member_{n:03d}") for n in range(450)
    ]
    alice = world.add_user(1001, "Alice", "Smith", username="alice")
    quiet = world.add_user(1002, "Alicia", "Quiet")
    world.add_supergroup(1234567890, "Book Club", "bookclub", members=[alice, quiet, *people])
    world.add_group(77, "Family", members=[alice, quiet])
    news = world.add_channel(555, "Example News", "example_news")
    news.members = (alice.marked_id,)
    owned = world.add_channel(556, "Own News", "own_news", creator=True)
    owned.members = (*owned.members, alice.marked_id)
    world.add_message(-1001234567890, 1, text="hello", date=T0, sender=alice)
    return world


def test_members_are_found_server_side_with_their_message_counts(
    make_cli: Callable[..., Cli],
) -> None:
    cli = make_cli(members_world())
    result = cli("find-user", "bookclub", "ali", "--members", "--json")
    assert result.code == 0, result.err
    rows = result.json()
    assert [(r["name"], r["messages"]) for r in rows] == [("Alice Smith", 1), ("Alicia Quiet", 0)]
    assert rows[1]["last_seen"] is None
    # Telethon: one count request, the page, and the empty page that ends the search
    assert cli.world.requests["GetParticipantsRequest"] == 3


def test_members_table_and_summary(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(members_world())
    result = cli("--tz", "UTC", "find-user", "bookclub", "ALI", "--members")
    assert result.code == 0, result.err
    lines = [line for line in result.out.splitlines() if "Ali" in line]
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in lines]
    assert cells == [
        ["1001", "@alice", "Alice Smith", "1", "2025-03-01 09:00"],
        ["1002", "", "Alicia Quiet", "0", ""],
    ]
    # 450 members, Alice, Alicia and the account itself
    assert "2 of 453 members; 1 senders in 1 messages" in result.err


def test_members_by_username_in_a_supergroup(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(members_world())
    result = cli("find-user", "bookclub", "@member_007", "--members", "--json")
    assert result.code == 0, result.err
    assert [(r["user_id"], r["username"], r["name"]) for r in result.json()] == [
        (2007, "member_007", "Member 007")
    ]


def test_member_search_pages_200_at_a_time(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(members_world())
    result = cli("find-user", "bookclub", "member_", "--members", "--json")
    assert result.code == 0, result.err
    assert len(result.json()) == 450
    assert {r["user_id"] for r in result.json()} == set(range(2000, 2450))
    # ceil(450/200) pages, plus Telethon's count request and its final empty page
    assert cli.world.requests["GetParticipantsRequest"] == 3 + 2


def test_telegram_matches_members_from_the_start_of_a_word(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(members_world())
    # "Smith" starts a word of Alice's name; "lice" only sits inside one, so Telegram
    # does not find her (the history scan, without --members, would).
    found = cli("find-user", "bookclub", "smi", "--members", "--json")
    assert [r["user_id"] for r in found.json()] == [1001]
    inside = cli("find-user", "bookclub", "lice", "--members", "--json")
    assert inside.code == 0 and inside.json() == []
    assert [r["user_id"] for r in cli("find-user", "bookclub", "lice", "--json").json()] == [1001]


def test_members_of_a_basic_group_by_name_and_by_username(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(members_world())
    cli.world.reset_counts()
    by_name = cli("find-user", "-77", "alicia", "--members", "--json")
    assert by_name.code == 0, by_name.err
    assert [(r["user_id"], r["messages"]) for r in by_name.json()] == [(1002, 0)]
    by_username = cli("find-user", "-77", "@alice", "--members", "--json")
    assert by_username.code == 0, by_username.err
    assert [r["username"] for r in by_username.json()] == ["alice"]
    # a basic group's members come with messages.getFullChat, filtered by Telethon
    assert cli.world.requests["GetParticipantsRequest"] == 0
    assert cli.world.requests["GetFullChatRequest"] >= 2


def test_no_member_matching(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(members_world())
    result = cli("find-user", "bookclub", "zed", "--members")
    assert result.code == 0, result.err
    assert 'No users matching "zed" among 453 members' in result.out
    as_json = cli("find-user", "-77", "zed", "--members", "--json")
    assert as_json.code == 0 and as_json.json() == []
    assert 'No users matching "zed" among 3 members' in as_json.err


def test_channel_members_need_admin_rights(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(members_world())
    result = cli("find-user", "example_news", "ali", "--members")
    assert result.code == 1
    assert "CHAT_ADMIN_REQUIRED" in result.err
    assert "only admins may list the members of Example News" in result.err
    assert "drop --members" in result.err


def test_channel_members_are_listed_to_its_creator(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(members_world())
    result = cli("find-user", "own_news", "ali", "--members", "--json")
    assert result.code == 0, result.err
    assert [(r["user_id"], r["messages"]) for r in result.json()] == [(1001, 0)]


def test_members_cannot_come_from_the_archive(make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(members_world())
    cli.world.reset_counts()
    result = cli("find-user", "bookclub", "ali", "--members", "--archive")
    assert result.code == 2
    assert "--members asks Telegram: it cannot go with --archive" in result.err
    assert sum(cli.world.requests.values()) == 0


# the fake's channels.getParticipants, through Telethon ------------------------------


async def test_fake_participants_types_paging_and_filters(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    world = members_world()
    alice = world.users[1001]
    world.add_supergroup(11, "Owned", "owned_sg", creator=True, members=[alice])
    world.add_supergroup(12, "Run", "run_sg", admin_rights=["pin_messages"], members=[alice])
    path = world.authorize_session_file(tmp_path / "a.session")
    client = world.client_factory(fake_clock)(
        ClientSpec(session_path=path, api_id=1, api_hash="x" * 32)
    )
    await client.connect()
    try:
        own_types = {}
        for name in ("owned_sg", "run_sg", "bookclub"):
            members = await client.get_participants(name)
            assert {u.id for u in members} >= {1000, 1001}
            by_id = {u.id: type(u.participant) for u in members}
            assert by_id[1001] is types.ChannelParticipant
            own_types[name] = by_id[1000]
        assert own_types == {
            "owned_sg": types.ChannelParticipantCreator,
            "run_sg": types.ChannelParticipantAdmin,
            "bookclub": types.ChannelParticipantSelf,
        }
        club = await client.get_input_entity("bookclub")
        page = await client(
            functions.channels.GetParticipantsRequest(
                club, types.ChannelParticipantsSearch("member"), offset=400, limit=500, hash=0
            )
        )
        assert (page.count, len(page.participants)) == (450, 50)
        assert {u.id for u in page.users} == {p.user_id for p in page.participants}
        first = await client(
            functions.channels.GetParticipantsRequest(
                club, types.ChannelParticipantsRecent(), offset=0, limit=500, hash=0
            )
        )
        assert (first.count, len(first.participants)) == (453, 200)
        admins = await client(
            functions.channels.GetParticipantsRequest(
                await client.get_input_entity("run_sg"),
                types.ChannelParticipantsAdmins(),
                offset=0,
                limit=10,
                hash=0,
            )
        )
        assert [p.user_id for p in admins.participants] == [1000]
        assert admins.participants[0].is_self
        with pytest.raises(errors.ChatAdminRequiredError):
            await client.get_participants("example_news")
    finally:
        await client.disconnect()
