"""Names typed by users resolved to Linear ids (spec §1.2): priorities, label lists,
exact case-insensitive matching with close names, ambiguity, state types, ``me``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.fakes.clock import FakeClock
from tests.fakes.linear import FakeLinear
from tgpilot.core.errors import UsageError
from tgpilot.gateways.linear import Ambiguous, LinearClient, NotFound
from tgpilot.services.linear.resolve import NameResolver, parse_priority, pick, split_labels


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("4", 4), (2, 2), ("none", 0), ("Urgent", 1), (" high ", 2), ("normal", 3),
     ("medium", 3), ("low", 4), ("no priority", 0)],
)  # fmt: skip
def test_priority_numbers_and_words(value: str | int, expected: int) -> None:
    assert parse_priority(value) == expected


@pytest.mark.parametrize("value", ["5", "7", "-1", "2.5", "asap", ""])
def test_other_priorities_are_usage_errors_naming_0_to_4(value: str) -> None:
    with pytest.raises(UsageError, match="0–4") as caught:
        parse_priority(value)
    assert caught.value.exit_code == 2


def test_labels_split_on_commas_trimmed_empties_dropped_once_each() -> None:
    assert split_labels([" l1 ", "", "a, b,,", "A", "c"]) == ["l1", "a", "b", "c"]


def test_pick_is_exact_and_case_insensitive_with_close_names() -> None:
    names = ["backlog", "bug", "feature"]
    assert pick("label", "BUG", names, lambda n: (n,), str) == "bug"
    with pytest.raises(NotFound) as caught:
        pick("label", "bakclog", names, lambda n: (n,), str)
    assert caught.value.close == ("backlog",) and caught.value.exit_code == 2
    with pytest.raises(NotFound):
        pick("label", "bu", names, lambda n: (n,), str)


def test_pick_lists_every_candidate_when_ambiguous() -> None:
    people = [("Alex", "a@x"), ("Alex", "b@x")]
    with pytest.raises(Ambiguous) as caught:
        pick("user", "alex", people, lambda p: p, lambda p: p[1])
    assert caught.value.candidates == ("a@x", "b@x") and caught.value.exit_code == 2


@pytest.fixture
def fake(fake_clock: FakeClock) -> Iterator[FakeLinear]:
    with FakeLinear(clock=fake_clock) as server:
        ws = server.workspace
        eng = ws.add_team("ENG", "Engineering")
        ws.add_team("OPS", "Operations")
        ws.add_label("bug", eng)
        ws.add_label("bug")
        ws.add_label("docs")
        yield server


@pytest.fixture
async def resolver(fake: FakeLinear, fake_clock: FakeClock) -> AsyncIterator[NameResolver]:
    async with LinearClient(api_url=fake.url, authorization="k", clock=fake_clock) as client:
        yield NameResolver(client.catalog, default_team="ENG")


async def test_team_by_key_name_default_or_uuid(fake: FakeLinear, resolver: NameResolver) -> None:
    ops = fake.workspace.team("OPS")
    assert (await resolver.team(None)).key == "ENG"
    assert (await resolver.team("ops")).id == ops.id
    assert (await resolver.team("operations")).id == ops.id
    assert (await resolver.team(ops.id)).key == "OPS"
    with pytest.raises(NotFound) as caught:
        await resolver.team("Engineeering")
    assert "Engineering" in caught.value.close


async def test_no_team_at_all_is_a_usage_error(fake: FakeLinear, fake_clock: FakeClock) -> None:
    async with LinearClient(api_url=fake.url, authorization="k", clock=fake_clock) as client:
        with pytest.raises(UsageError, match="no team"):
            await NameResolver(client.catalog).team(None)
    assert fake.requests == []


async def test_state_by_name_or_first_of_its_type(fake: FakeLinear, resolver: NameResolver) -> None:
    eng = await resolver.team("ENG")
    assert (await resolver.state(eng, "in progress")).name == "In Progress"
    assert (await resolver.state(eng, "completed")).name == "Done"
    assert (await resolver.state(eng, "canceled")).name == "Canceled"
    with pytest.raises(NotFound):
        await resolver.state(eng, "triage")


async def test_team_label_wins_over_a_workspace_label_of_the_same_name(
    fake: FakeLinear, resolver: NameResolver
) -> None:
    eng = await resolver.team("ENG")
    choice = await resolver.labels(eng, ["BUG", "docs", "new one"], allow_missing=True)
    ws = fake.workspace
    team_bug = next(x for x in ws.labels if x.name == "bug" and x.team is not None)
    assert [x.id for x in choice.found] == [team_bug.id, ws.label_named("docs").id]
    assert choice.missing == ("new one",)


async def test_me_is_the_viewer(fake: FakeLinear, resolver: NameResolver) -> None:
    eng = await resolver.team("ENG")
    assert (await resolver.assignee(eng, "ME")).id == fake.workspace.viewer.id
