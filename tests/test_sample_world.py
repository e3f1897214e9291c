"""The demo's sample account (``sample/``): deterministic, as described, and usable.

The world must be identical on every build (the demo output and these checks rely on
it), hold what ``sample/README.md`` promises, and every alias of ``sample/config.yml``
must resolve through the real CLI to the chat it names.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml

from sample import build_world as sample
from tests.fakes.clock import FakeClock
from tests.fakes.telegram import FakeTelegram, marked_channel, marked_group
from tests.harness import Cli

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "sample" / "config.yml"
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
LATIN_WORD = re.compile(r"\b[a-z]{4,}\b", re.IGNORECASE)

CLUB = marked_channel(sample.CLUB_ID)
NEWS = marked_channel(sample.NEWS_ID)
TEAM = marked_channel(sample.TEAM_ID)
ARCHIVE = marked_channel(sample.ARCHIVE_ID)
FAMILY = marked_group(sample.FAMILY_ID)


@pytest.fixture(scope="module")
def world() -> FakeTelegram:
    return sample.build_world()


def fingerprint(world: FakeTelegram) -> list[tuple[Any, ...]]:
    """Everything about every message that a build could change."""
    rows = []
    for chat in sorted(world.messages):
        for rec in world.messages[chat].values():
            rows.append(
                (
                    chat,
                    rec.id,
                    rec.date,
                    rec.text,
                    rec.sender,
                    rec.reply_to,
                    rec.edit_date,
                    rec.fwd_from,
                    rec.media,
                    rec.reactions,
                    rec.action,
                    rec.pinned,
                )
            )
    return rows


def test_two_builds_are_identical(world: FakeTelegram) -> None:
    again = sample.build_world()
    assert fingerprint(again) == fingerprint(world)
    assert again.dialogs == world.dialogs
    assert again.users == world.users
    assert {**again.groups, **again.channels} == {**world.groups, **world.channels}


def test_a_different_seed_gives_different_messages(world: FakeTelegram) -> None:
    other = sample.build_world(seed=sample.SEED + 1)
    assert [r[3] for r in fingerprint(other)] != [r[3] for r in fingerprint(world)]


def test_people_bots_and_chats(world: FakeTelegram) -> None:
    me = world.me
    assert (me.full_name, me.username) == ("Demo Pilot", "demo_pilot")
    others = [u for u in world.users.values() if u.id != me.id]
    people = [u for u in others if not u.bot]
    bots = [u for u in others if u.bot]
    assert len(people) == 10 and len(bots) == 2
    assert any(CYRILLIC.search(u.full_name) for u in people)
    assert any(not CYRILLIC.search(u.full_name) for u in people)
    kinds = Counter(c.kind for c in [*world.groups.values(), *world.channels.values()])
    assert kinds == {"group": 1, "supergroup": 2, "channel": 2}
    club = world.peer(CLUB)
    news = world.peer(NEWS)
    assert club is not None and club.username == "tgpilot_demo_club"
    assert news is not None and news.username == sample.NEWS_USERNAME
    for private in (TEAM, ARCHIVE, FAMILY):
        chat = world.peer(private)
        assert chat is not None and chat.username is None


def test_dialog_list_has_unread_one_pinned_one_archived(world: FakeTelegram) -> None:
    dialogs = world.dialogs.values()
    assert [d.peer for d in dialogs if d.pinned] == [CLUB]
    assert [d.peer for d in dialogs if d.folder_id == 1] == [ARCHIVE]
    assert sum(1 for d in dialogs if d.unread_count) >= 4
    private = [d.peer for d in dialogs if d.peer > 0]
    assert len(private) >= 10  # people and both bots
    assert all(world.history(d.peer) for d in dialogs)


def test_the_club_is_a_multi_month_bilingual_chat(world: FakeTelegram) -> None:
    history = world.history(CLUB)
    assert len(history) == sample.CLUB_MESSAGES
    months = {m.date.month for m in history}
    assert months == {9, 10, 11}
    texts = [m.text for m in history if m.text]
    assert sum(bool(CYRILLIC.search(t)) for t in texts) > 400
    assert sum(bool(LATIN_WORD.search(t)) and not CYRILLIC.search(t) for t in texts) > 200
    assert len(set(texts)) > 300  # varied, not one template
    assert not any("lorem" in t.lower() for t in texts)
    features = Counter()
    for m in history:
        features["reply"] += m.reply_to is not None
        features["forward"] += m.fwd_from is not None
        features["edit"] += m.edit_date is not None
        features["service"] += m.action is not None
        features["pinned"] += m.pinned
        if m.media:
            features[m.media.kind] += 1
        for r in m.reactions or []:
            features[f"reaction:{r.kind}"] += 1
    for feature in ("reply", "forward", "edit", "photo", "video", "document", "voice"):
        assert features[feature] >= 5, feature
    assert 3 <= features["service"] <= 10
    assert features["pinned"] == 1
    assert features["reaction:emoji"] > 100
    assert features["reaction:custom"] > 5
    assert features["reaction:paid"] > 2
    senders = Counter(m.sender for m in history)
    assert len(senders) >= 8
    # forwards come from the public channel's real posts
    for m in history:
        if m.fwd_from is not None:
            post = world.message(NEWS, m.fwd_from.channel_post or 0)
            assert (m.fwd_from.from_peer, post.text) == (NEWS, m.text)
            assert post.date <= m.date


def test_dates_are_fixed_and_ids_grow_with_time(world: FakeTelegram) -> None:
    every = [m for chat in world.messages.values() for m in chat.values()]
    assert min(m.date for m in every).date() >= sample.FIRST_DAY
    assert max(m.date for m in every).date() <= sample.LAST_DAY
    assert all(m.edit_date is None or m.date < m.edit_date < sample.NOW for m in every)
    for chat in world.messages:
        history = world.history(chat)  # newest first
        assert all(a.date >= b.date for a, b in pairwise(history))


def test_generator_writes_a_loadable_world(tmp_path: Path) -> None:
    from sample.build_world import main

    out = tmp_path / "world.pickle"
    assert main([str(out), "--quiet"]) == 0
    assert fingerprint(FakeTelegram.load(out)) == fingerprint(sample.build_world())


def test_prepare_writes_a_private_authorised_session(tmp_path: Path) -> None:
    from sample.prepare import prepare

    home = tmp_path / "home"
    world = prepare(home, tmp_path / "world.pickle")
    session = home / "sessions" / "default.session"
    assert session.stat().st_mode & 0o777 == 0o600
    assert session.parent.stat().st_mode & 0o777 == 0o700
    saved = FakeTelegram.load(tmp_path / "world.pickle")
    assert saved.auth == world.auth and len(saved.auth) == 1


EXPECTED_ALIASES = {
    "club": (CLUB, "supergroup"),
    "news": (NEWS, "channel"),
    "family": (FAMILY, "group"),
    "team": (TEAM, "supergroup"),
    "photos": (ARCHIVE, "channel"),
    "anna": (6_100_000_101, "user"),
    "weather": (6_200_000_001, "bot"),
}


@pytest.fixture
def cli(
    tgpilot_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    harness = Cli(
        sample.build_world(), FakeClock(start=sample.NOW), tgpilot_home, monkeypatch, capsys
    )
    harness.login_session()
    return harness


def test_demo_config_is_valid_and_uses_moscow_time(cli: Cli) -> None:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert config["output"]["timezone"] == "Europe/Moscow"
    assert set(config["chats"]) == set(EXPECTED_ALIASES)
    result = cli("--config", str(CONFIG), "config", "check")
    assert result.code == 0, result.err + result.out


@pytest.mark.parametrize("alias", sorted(EXPECTED_ALIASES))
def test_every_demo_alias_resolves_through_the_cli(cli: Cli, alias: str) -> None:
    result = cli("--config", str(CONFIG), "--json", "chats", "resolve", alias)
    assert result.code == 0, result.err
    found = result.json()
    assert (found["id"], found["type"]) == EXPECTED_ALIASES[alias]


def test_title_search_and_listing_on_the_sample(cli: Cli) -> None:
    falcon = cli(
        "--config", str(CONFIG), "--json", "chats", "resolve", "--title-contains", "falcon"
    )
    assert falcon.code == 0, falcon.err
    assert falcon.json()["id"] == TEAM
    listing = cli("--config", str(CONFIG), "--json", "chats", "list", "--limit", "0")
    assert listing.code == 0, listing.err
    rows = listing.json()
    assert rows[0]["title"] == sample.CLUB_TITLE
    assert rows[0]["last_message"].endswith("+03:00")  # Europe/Moscow from the config
    assert {r["type"] for r in rows} == {"user", "group", "supergroup", "channel"}
