"""The ``!linear`` listener (spec linear-and-bots.md §1.4; scenarios 12–17): the command
grammar, and the handler inside ``tgpilot run``'s host on the fake Telegram and the
fake Linear — senders, reply context, confirmations, and never two issues for one
command."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import delete, update

from tests.fakes.linear import FakeLinear, Fault
from tests.fakes.llm.server import FakeLLMServer
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli
from tests.run_support import (
    ALICE,
    BOB,
    ME,
    TEAM_ID,
    HostRun,
    make_world,
    quiet,
    running_host,
    settle,
)
from tests.run_support import settings as answer_settings
from tgpilot.core.audit import AuditLog
from tgpilot.core.clock import Clock
from tgpilot.core.config.settings import LinearListenerSettings, LinearSettings
from tgpilot.gateways.telegram.gateway import TelegramGateway
from tgpilot.services.linear.commands import (
    LinearCommand,
    SourceMessage,
    draft_issue,
    parse_command,
    split_payload,
)
from tgpilot.services.linear.listener import LinearListener, build_listener, client_id
from tgpilot.services.runtime.handler import MessageHandler
from tgpilot.store import Store
from tgpilot.store.linear import LinearLinkRepository
from tgpilot.store.schema import linear_links, run_cursors

API_KEY = "lin_api_listener_secret_42"
WHEN = datetime(2024, 3, 10, 11, 58, tzinfo=UTC)

# --------------------------------------------------------------------------- grammar


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("!linear hello", "hello"),
        ("!linear   hi there", "hi there"),
        ("!linear\thi", "hi"),
        ("!linear", ""),
        ("!linear   ", ""),
    ],
)
def test_scenario_12_a_command_is_the_prefix_then_whitespace_or_the_end(
    text: str, title: str
) -> None:
    command = parse_command(text, "!linear")
    assert command is not None and command.title == title


@pytest.mark.parametrize("text", ["prefix !linear hi", "!linearx hi", "linear hi", "", "!lin"])
def test_scenario_12_other_texts_are_not_commands(text: str) -> None:
    assert parse_command(text, "!linear") is None


def test_scenario_12_a_bare_prefix_without_a_reply_asks_for_usage() -> None:
    command = parse_command("!linear", "!linear")
    assert command is not None and command.bare
    assert draft_issue(command, None) is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("Title | Description", ("Title", "Description")),
        ("Just title", ("Just title", None)),
        ("Title | ", ("Title", None)),
        ("A | b | c", ("A", "b | c")),
        ("Title\nline two\nline three", ("Title", "line two\nline three")),
        ("Title | first\nsecond", ("Title", "first\nsecond")),
        ("Title\nwith | bar later", ("Title", "with | bar later")),
    ],
)
def test_scenario_13_the_payload_splits_on_the_first_bar_of_the_first_line(
    payload: str, expected: tuple[str, str | None]
) -> None:
    assert split_payload(payload) == expected


def test_a_custom_prefix_works_the_same() -> None:
    assert parse_command("!do Ship it | today", "!do") == LinearCommand("Ship it", "today")
    assert parse_command("!linear Ship it", "!do") is None


SOURCE = SourceMessage(
    "Server is down\nsince 10:00", "Alice (@alice)", WHEN, "https://t.me/team_chat/7"
)


def test_scenario_14_reply_context_follows_the_description() -> None:
    command = parse_command("!linear Investigate | urgent", "!linear")
    assert command is not None
    draft = draft_issue(command, SOURCE)
    assert draft is not None and draft.title == "Investigate"
    assert draft.description is not None
    head, _, section = draft.description.partition("\n\n")
    assert head == "urgent"
    assert section.splitlines()[0] == "**Source message**"
    assert "> Server is down\n> since 10:00" in section
    assert "From: Alice (@alice)" in section
    assert "Date: 2024-03-10 11:58 UTC" in section
    assert "Link: https://t.me/team_chat/7" in section


def test_scenario_14_without_a_description_the_section_is_the_description() -> None:
    command = parse_command("!linear Investigate", "!linear")
    assert command is not None
    draft = draft_issue(command, SOURCE)
    assert draft is not None and draft.description is not None
    assert draft.description.startswith("**Source message**")


def test_a_bare_prefix_replying_takes_the_title_from_the_first_line_in_80_characters() -> None:
    command = parse_command("!linear", "!linear")
    assert command is not None
    long = SourceMessage("x" * 200 + "\nmore", None, WHEN)
    draft = draft_issue(command, long)
    assert draft is not None and len(draft.title) == 80
    short = draft_issue(command, SOURCE)
    assert short is not None and short.title == "Server is down"
    assert draft_issue(command, SourceMessage("   ", None, WHEN)) is None


def test_client_ids_are_uuid4_and_stable_per_command() -> None:
    first = client_id("tg", "-100555/7")
    assert first == client_id("tg", "-100555/7") != client_id("tg", "-100555/8")
    assert first[14] == "4"


# --------------------------------------------------------------------------- config


def test_scenario_15_the_prefix_is_trimmed_and_blank_means_the_default() -> None:
    assert LinearListenerSettings(prefix="  !do  ").prefix == "!do"
    assert LinearListenerSettings(prefix="   ").prefix == "!linear"


@pytest.mark.parametrize("where", ["env", "config.yml"])
def test_scenario_15_an_invalid_sender_fails_config_check_naming_it(
    where: str, make_cli: Callable[..., Cli], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = make_cli(make_world())
    if where == "env":
        monkeypatch.setenv("TGPILOT_LINEAR__LISTENER__ALLOWED_SENDERS", " 1, 2, x ")
    else:
        Path("config.yml").write_text(
            "linear:\n  listener:\n    allowed_senders: [1, 2, x]\n", encoding="utf-8"
        )
    result = cli("config", "check")
    assert result.code == 2
    [line] = [x for x in result.err.splitlines() if "allowed_senders" in x and "'x'" in x]
    assert "not an integer" in line


# --------------------------------------------------------------------------- in the host

OTHER, TEN, TWENTY, THIRTY = 1004, 10, 20, 30


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def linear() -> Iterator[FakeLinear]:
    with FakeLinear() as server:
        server.workspace.add_team("ENG", "Engineering")
        yield server


def world_with_senders() -> FakeTelegram:
    world = make_world()
    for user_id, name in ((TEN, "Ten"), (TWENTY, "Twenty"), (THIRTY, "Thirty")):
        world.add_user(user_id, name, dialog=True)
    world.add_supergroup(556, "Ops", "ops_chat", members=[ALICE, TEN, TWENTY, THIRTY])
    return world


OPS_ID = -1000000000556


def linear_settings(linear: FakeLinear, **listener: Any) -> LinearSettings:
    return LinearSettings(
        api_url=linear.url,
        api_key=SecretStr(API_KEY),
        team="ENG",
        listener=LinearListenerSettings(enabled=True, **listener),
    )


@dataclass
class ListenerRun:
    run: HostRun
    listener: LinearListener
    audit: Path


@asynccontextmanager
async def listening(
    world: FakeTelegram,
    tmp_path: Path,
    llm: FakeLLMServer,
    settings: LinearSettings,
) -> AsyncIterator[ListenerRun]:
    """The host with the auto-responder off and the listener as its one handler."""
    built: list[LinearListener] = []
    audit = tmp_path / "audit.jsonl"
    async with AsyncExitStack() as stack:

        async def extra(
            gateway: TelegramGateway, store: Store, clock: Clock, logs: list[str]
        ) -> list[MessageHandler]:
            listener = await build_listener(
                settings=settings, gateway=gateway, store=store,
                audit=AuditLog(audit, "default"), clock=clock, log=logs.append, stack=stack,
            )  # fmt: skip
            built.append(listener)
            return [listener]

        async with running_host(
            world, tmp_path, llm, answer=answer_settings(mode="off"), extra=extra
        ) as run:
            yield ListenerRun(run, built[0], audit)


def now() -> datetime:
    return datetime.now(UTC)


def replies(run: HostRun, chat: int) -> list[Any]:
    """The account's messages in ``chat`` that are not commands."""
    return [m for m in run.outgoing(chat) if not m.text.startswith("!")]


async def test_scenario_16_the_owners_command_creates_an_issue_and_replies_with_it(
    tmp_path: Path, llm: FakeLLMServer, linear: FakeLinear
) -> None:
    world = world_with_senders()
    async with listening(world, tmp_path, llm, linear_settings(linear)) as ctx:
        own = world.add_message(TEAM_ID, text="!linear Fix login", sender=ME, date=now())
        await settle(lambda: len(replies(ctx.run, TEAM_ID)) == 1)
        world.add_message(TEAM_ID, text="!linear From Alice", sender=ALICE, date=now())
        world.add_message(BOB, text="!linear From Bob", date=now())
        await settle(lambda: ctx.listener.counts.ignored_senders == 2)
        await quiet()
        links = await LinearLinkRepository(ctx.run.store).for_source("tg")
    [issue] = linear.workspace.issues_of("ENG")
    assert issue.title == "Fix login" and issue.description is None
    assert issue.id == client_id("tg", f"{TEAM_ID}/{own.id}")
    [reply] = replies(ctx.run, TEAM_ID)
    assert reply.text == f"{issue.identifier} {issue.url}"
    assert reply.reply_to == own.id
    assert replies(ctx.run, BOB) == []
    assert [(link.external_key, link.issue_id) for link in links] == [
        (f"{TEAM_ID}/{own.id}", issue.id)
    ]
    ignored = [line for line in ctx.run.logs if "ignored" in line]
    assert len(ignored) == 2 and str(ALICE) in ignored[0] and str(BOB) in ignored[1]
    audit = (ctx.audit).read_text()
    assert "linear.issue_create" in audit and API_KEY not in audit
    assert all(API_KEY not in line for line in ctx.run.logs)


async def test_scenario_16_listed_senders_are_allowed_and_others_ignored(
    tmp_path: Path, llm: FakeLLMServer, linear: FakeLinear
) -> None:
    world = world_with_senders()
    settings = linear_settings(linear, allowed_senders=[TEN, TWENTY])
    async with listening(world, tmp_path, llm, settings) as ctx:
        for sender in (TEN, TWENTY, THIRTY):
            world.add_message(OPS_ID, text=f"!linear From {sender}", sender=sender, date=now())
        world.add_message(OPS_ID, text="!linear From me", sender=ME, date=now())
        await settle(lambda: len(replies(ctx.run, OPS_ID)) == 3)
        await quiet()
    titles = sorted(i.title for i in linear.workspace.issues_of("ENG"))
    assert titles == ["From 10", "From 20", "From me"]
    assert ctx.listener.counts.ignored_senders == 1


async def test_scenario_14_a_reply_carries_the_source_message_into_the_issue(
    tmp_path: Path, llm: FakeLLMServer, linear: FakeLinear
) -> None:
    world = world_with_senders()
    async with listening(world, tmp_path, llm, linear_settings(linear)) as ctx:
        down = world.add_message(TEAM_ID, text="Server is down", sender=ALICE, date=now())
        world.add_message(
            TEAM_ID, text="!linear Investigate | urgent", sender=ME, reply_to=down.id, date=now()
        )
        bare = world.add_message(TEAM_ID, text="!linear", sender=ME, reply_to=down.id, date=now())
        await settle(lambda: len(replies(ctx.run, TEAM_ID)) == 2)
    first, second = linear.workspace.issues_of("ENG")
    assert first.title == "Investigate"
    assert first.description is not None
    assert first.description.startswith("urgent\n\n**Source message**\n\n> Server is down")
    assert "From: Alice (@alice)" in first.description
    assert f"Link: https://t.me/team_chat/{down.id}" in first.description
    assert second.title == "Server is down"
    assert second.description is not None
    assert second.description.startswith("**Source message**")
    assert replies(ctx.run, TEAM_ID)[-1].reply_to == bare.id


async def test_scenario_12_a_bare_prefix_gets_the_usage_and_edits_are_ignored(
    tmp_path: Path, llm: FakeLLMServer, linear: FakeLinear
) -> None:
    world = world_with_senders()
    async with listening(world, tmp_path, llm, linear_settings(linear)) as ctx:
        plain = world.add_message(TEAM_ID, text="just talking", sender=ME, date=now())
        bare = world.add_message(TEAM_ID, text="!linear", sender=ME, date=now())
        await settle(lambda: len(replies(ctx.run, TEAM_ID)) == 1)
        world.edit_message(TEAM_ID, plain.id, "!linear Edited into a command")
        world.add_message(TEAM_ID, text="!linearx not one", sender=ME, date=now())
        await quiet(0.5)
    [usage] = replies(ctx.run, TEAM_ID)
    assert usage.text.startswith("Usage: !linear") and usage.reply_to == bare.id
    assert linear.workspace.issues_of("ENG") == []


async def test_scenario_17_commands_in_two_chats_within_a_second_both_create(
    tmp_path: Path, llm: FakeLLMServer, linear: FakeLinear
) -> None:
    world = world_with_senders()
    async with listening(world, tmp_path, llm, linear_settings(linear)) as ctx:
        world.add_message(TEAM_ID, text="!linear From Team", sender=ME, date=now())
        world.add_message(ALICE, text="!linear From Alice's chat", sender=ME, date=now())
        await settle(lambda: ctx.listener.counts.created == 2)
        await quiet()
    assert sorted(i.title for i in linear.workspace.issues_of("ENG")) == [
        "From Alice's chat",
        "From Team",
    ]
    assert len(replies(ctx.run, TEAM_ID)) == 1 and len(replies(ctx.run, ALICE)) == 1


async def test_scenario_17_an_update_delivered_twice_creates_one_issue(
    tmp_path: Path, llm: FakeLLMServer, linear: FakeLinear
) -> None:
    world = world_with_senders()
    settings = linear_settings(linear)
    async with listening(world, tmp_path, llm, settings) as ctx:
        command = world.add_message(TEAM_ID, text="!linear Once only", sender=ME, date=now())
        await settle(lambda: ctx.listener.counts.created == 1)
        world._announce(command, world.peer(TEAM_ID))  # Telegram pushes it again
        await quiet(0.5)
        url = ctx.run.store.url
    store = await Store.open(url)  # once the host has stopped: as if the cursor never moved
    try:
        async with store.engine.begin() as conn:
            await conn.execute(delete(run_cursors))
    finally:
        await store.close()
    async with listening(world, tmp_path, llm, settings) as again:
        await settle(lambda: again.listener.counts.duplicates == 1)
        await quiet()
    assert [i.title for i in linear.workspace.issues_of("ENG")] == ["Once only"]
    assert len(replies(ctx.run, TEAM_ID)) == 1
    assert linear.operations().count("IssueCreate") == 1


async def test_a_create_left_pending_by_a_crash_is_finished_as_the_same_issue(
    tmp_path: Path, llm: FakeLLMServer, linear: FakeLinear
) -> None:
    world = world_with_senders()
    settings = linear_settings(linear)
    async with listening(world, tmp_path, llm, settings) as ctx:
        command = world.add_message(TEAM_ID, text="!linear Survives", sender=ME, date=now())
        await settle(lambda: ctx.listener.counts.created == 1)
        url = ctx.run.store.url
    key = f"{TEAM_ID}/{command.id}"
    # the crash, made once the host has stopped (so its last cursor write is in): the
    # issue exists in Linear, the link is still pending, the cursor unmoved
    store = await Store.open(url)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(update(linear_links).values(issue_id=None))
            await conn.execute(delete(run_cursors))
        pending = await LinearLinkRepository(store).get("tg", key)
    finally:
        await store.close()
    assert pending is not None and pending.pending
    async with listening(world, tmp_path, llm, settings) as again:
        await settle(lambda: again.listener.counts.created == 1)
        link = await LinearLinkRepository(again.run.store).get("tg", key)
    [issue] = linear.workspace.issues_of("ENG")
    assert link is not None and link.issue_id == issue.id
    assert linear.operations().count("IssueCreate") == 2  # the retry found the same id


async def test_a_failed_create_replies_briefly_and_frees_the_command_for_a_retry(
    tmp_path: Path, llm: FakeLLMServer, linear: FakeLinear
) -> None:
    world = world_with_senders()
    linear.fail(Fault.error("Internal: boom at db-7 (secret stack)"), operation="IssueCreate")
    async with listening(world, tmp_path, llm, linear_settings(linear)) as ctx:
        command = world.add_message(TEAM_ID, text="!linear Doomed", sender=ME, date=now())
        await settle(lambda: len(replies(ctx.run, TEAM_ID)) == 1)
        link = await LinearLinkRepository(ctx.run.store).get("tg", f"{TEAM_ID}/{command.id}")
    [reply] = replies(ctx.run, TEAM_ID)
    assert reply.text == "Issue not created: Linear did not create the issue."
    assert "boom" not in reply.text and reply.reply_to == command.id
    assert link is None
    assert any("boom" in line for line in ctx.run.logs)  # the reason is in the log only


async def test_confirm_in_saved_sends_the_confirmation_to_saved_messages(
    tmp_path: Path, llm: FakeLLMServer, linear: FakeLinear
) -> None:
    world = world_with_senders()
    settings = linear_settings(linear, confirm_in="saved", chats=["@team_chat"])
    async with listening(world, tmp_path, llm, settings) as ctx:
        world.add_message(OPS_ID, text="!linear Elsewhere", sender=ME, date=now())
        world.add_message(TEAM_ID, text="!linear Quietly", sender=ME, date=now())
        await settle(lambda: len(ctx.run.outgoing(ME)) == 1)
        await quiet()
    [issue] = linear.workspace.issues_of("ENG")
    assert issue.title == "Quietly"
    [saved] = ctx.run.outgoing(ME)
    assert saved.text.startswith(f"{issue.identifier} {issue.url}\n(from Team")
    assert replies(ctx.run, TEAM_ID) == []
