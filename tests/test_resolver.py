"""The single chat resolver (spec telegram-cli §2, scenarios 10 and 11)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli
from tgpilot.gateways.telegram.links import parse_link, parse_username

CONFIG = """
chats:
  bookclub: {id: -1000000000777, type: channel}
  team:     {id: -1001234567890}
  news:     {username: example_news}
  feed:     {id: 555, type: channel}
  friend:   {id: 5555, type: user}
  club:     {link: "https://t.me/bookclub"}
  grp:      {id: 1234567890, type: group}
"""


def resolver_world() -> FakeTelegram:
    world = FakeTelegram()
    world.add_me(1000, "Me", username="me_user", phone="+15550001000")
    world.add_user(5555, "Friend", "Person", username="friend_person", dialog=True)
    world.add_supergroup(1234567890, "Book Club", "bookclub")
    world.add_supergroup(1234567891, "Chess Club")
    world.add_channel(555, "Example News", "example_news")
    world.add_channel(777, "Alias Target Channel")
    world.add_group(4242, "Family")
    return world


@pytest.fixture
def cli(make_cli: Callable[..., Cli], clean_environment: Path) -> Cli:
    (clean_environment / "config.yml").write_text(CONFIG, encoding="utf-8")
    return make_cli(resolver_world())


def resolved_id(cli: Cli, *args: str) -> int:
    result = cli("chats", "resolve", *args, "--json")
    assert result.code == 0, result.err
    return int(result.json()["id"])


def test_alias_wins_over_the_public_chat_of_the_same_name(cli: Cli) -> None:
    assert resolved_id(cli, "bookclub") == -1000000000777
    assert resolved_id(cli, "@bookclub") == -1001234567890


@pytest.mark.parametrize(
    "text", ["https://t.me/example_news", "@@example_news", "example_news", "t.me/example_news/"]
)
def test_link_username_forms_name_one_channel(cli: Cli, text: str) -> None:
    assert resolved_id(cli, text) == -1000000000555


@pytest.mark.parametrize(
    "text", ["1234567890", "-1001234567890", "t.me/c/1234567890/55", "https://t.me/c/1234567890"]
)
def test_id_forms_name_one_supergroup(cli: Cli, text: str) -> None:
    assert resolved_id(cli, text) == -1001234567890


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("team", -1001234567890),
        ("news", -1000000000555),
        ("feed", -1000000000555),
        ("friend", 5555),
        ("club", -1001234567890),
        ("grp", -1001234567890),
    ],
)
def test_aliases_resolve_and_group_type_matches_a_supergroup(
    cli: Cli, alias: str, expected: int
) -> None:
    assert resolved_id(cli, alias) == expected


def test_alias_with_wrong_declared_type_is_config_error(cli: Cli, clean_environment: Path) -> None:
    (clean_environment / "config.yml").write_text(
        "chats:\n  wrong: {id: 555, type: user}\n", encoding="utf-8"
    )
    result = cli("chats", "resolve", "wrong")
    assert result.code == 2
    assert "wrong" in result.err and "channel" in result.err


def test_uncached_raw_id_resolved_twice_costs_one_dialog_walk(cli: Cli) -> None:
    assert resolved_id(cli, "1234567890") == -1001234567890
    walks_first = cli.world.requests["GetDialogsRequest"]
    assert walks_first == 1
    assert resolved_id(cli, "1234567890") == -1001234567890
    assert cli.world.requests["GetDialogsRequest"] == walks_first


def test_marked_basic_group_id(cli: Cli) -> None:
    assert resolved_id(cli, "-4242") == -4242


def test_raw_id_of_two_kinds_is_ambiguous_and_suggests_marked_ids(cli: Cli) -> None:
    cli.world.add_group(5555, "Same Raw Id Group")
    result = cli("chats", "resolve", "5555")
    assert result.code == 2
    assert "ambiguous" in result.err
    assert "-5555" in result.err and "5555" in result.err


def test_title_contains_must_match_exactly_one(cli: Cli) -> None:
    result = cli("chats", "resolve", "--title-contains", "club")
    assert result.code == 2
    assert "Book Club" in result.err and "Chess Club" in result.err
    assert resolved_id(cli, "--title-contains", "book club") == -1001234567890
    assert resolved_id(cli, "--title-contains", "BOOK CLUB") == -1001234567890
    none = cli("chats", "resolve", "--title-contains", "no such title")
    assert none.code == 2


def test_plain_word_never_tries_titles(cli: Cli) -> None:
    cli.world.reset_counts()
    result = cli("chats", "resolve", "club2")
    assert result.code == 2
    assert 'chat "club2" not found: not an alias, link, username or id' in result.err
    assert cli.world.requests["GetDialogsRequest"] == 0


def test_near_miss_hints_the_alias(cli: Cli) -> None:
    result = cli("chats", "resolve", "tema")
    assert result.code == 2
    assert "hint:" in result.err and "team" in result.err


def test_unknown_username_is_chat_not_found(cli: Cli) -> None:
    result = cli("chats", "resolve", "@nobody_here")
    assert result.code == 2
    assert "nobody_here" in result.err


def test_unknown_numeric_id_walks_once_then_fails(cli: Cli) -> None:
    result = cli("chats", "resolve", "987654321")
    assert result.code == 2
    assert cli.world.requests["GetDialogsRequest"] == 1


def test_resolver_uses_the_dialog_cache_without_a_walk(cli: Cli) -> None:
    assert cli("chats", "list").code == 0
    cli.world.reset_counts()
    assert resolved_id(cli, "-4242") == -4242
    assert cli.world.requests["GetDialogsRequest"] == 0


@pytest.mark.parametrize(
    ("text", "username", "raw", "invite", "msg"),
    [
        ("https://t.me/example_news/12345?single", "example_news", None, None, 12345),
        ("t.me/c/123456/789/", None, 123456, None, 789),
        ("https://t.me/+AbCdEf123", None, None, "AbCdEf123", None),
        ("https://t.me/joinchat/AbCdEf123", None, None, "AbCdEf123", None),
        ("telegram.me/example_news", "example_news", None, None, None),
    ],
)
def test_link_parsing(
    text: str, username: str | None, raw: int | None, invite: str | None, msg: int | None
) -> None:
    link = parse_link(text)
    assert link is not None
    assert (link.username, link.channel_raw_id, link.invite_hash, link.message_id) == (
        username,
        raw,
        invite,
        msg,
    )


def test_username_syntax() -> None:
    assert parse_username("@@example_news") == "example_news"
    assert parse_username("example_news") == "example_news"
    assert parse_username("club") is None  # under 5 characters: not a bare username
    assert parse_username("1abcde") is None
    assert parse_username("https://t.me/x") is None


def test_option_looking_chat_is_refused_but_negative_ids_pass(cli: Cli) -> None:
    result = cli("chats", "resolve", "--bogus")
    assert result.code == 2
    assert "no such option: --bogus" in result.err


@pytest.mark.parametrize(
    ("tokens", "ids"),
    [
        (["12345"], (12345,)),
        (["https://t.me/example_news/12345?single"], (12345,)),
        (["https://t.me/c/123/999"], (999,)),
        (["t.me/c/123456/789/"], (789,)),
        (["123,124", "https://t.me/c/1/123", "125"], (123, 124, 125)),
    ],
)
def test_message_refs(tokens: list[str], ids: tuple[int, ...]) -> None:
    from tgpilot.gateways.telegram.links import parse_message_refs

    refs = parse_message_refs(tokens)
    assert refs.ids == ids
    assert refs.warnings == ()


@pytest.mark.parametrize("token", ["", "abc"])
def test_bad_message_refs_are_warnings(token: str) -> None:
    from tgpilot.gateways.telegram.links import parse_message_refs

    refs = parse_message_refs([token, "7"])
    assert refs.ids == (7,)
    assert len(refs.warnings) == 1
