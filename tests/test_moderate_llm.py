"""``moderate check|watch`` with ``moderation.llm_verdict`` (spec ai.md §4.7) on the fake
LLM server: near the spam threshold the ``moderator`` prompt decides, far from it no
request is made, a failing model leaves the decision to the score; and scenario 24
(profanity exceptions and censoring) end to end through ``moderate check``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, RecordedRequest, Reply
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli, session_options
from tgpilot.core.audit import AuditLog
from tgpilot.core.config.settings import ModerationSettings
from tgpilot.gateways.llm.catalogue import load_catalogue
from tgpilot.gateways.llm.client import LLMClient
from tgpilot.gateways.llm.factory import create_llm_client
from tgpilot.gateways.llm.resolve import LLMTarget
from tgpilot.gateways.telegram.session import open_session
from tgpilot.services.moderation.verdict import LLMJudge, Moderator
from tgpilot.services.moderation.watch import ModerationWatch, WatchOptions
from tgpilot.services.prompts import PromptLibrary

KEY = "sk-test-0123456789abcdef"
NEAR = "see bit.ly/abc123"  # one suspicious URL: 15, within 15 of the threshold 30
NEAR_SPAM = "Get a bonus up to 6000 USDT"  # crypto + currency: 40, spam by the score
FAR = "Привет, как дела?"  # 0: 30 points away
MODERATOR_SYSTEM = "You are a fair, careful moderator of a Telegram group."
VIOLATION = {"violation": True, "reason": "Advertising a shortened link.", "severity": "High"}
FINE = {"violation": "no", "reason": "A bonus question, not an offer.", "severity": "low"}


def chats(server: FakeLLMServer) -> list[RecordedRequest]:
    return server.requests_to("/chat/completions")


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


def make_check_cli(
    make_cli: Callable[..., Cli],
    clean_environment: Path,
    server: FakeLLMServer,
    monkeypatch: pytest.MonkeyPatch,
    config: str,
) -> Cli:
    (clean_environment / "config.yml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("TGPILOT_LLM__MAX_RETRIES", "2")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return make_cli(FakeTelegram(), logged_in=False)


@pytest.fixture
def cli(
    make_cli: Callable[..., Cli],
    clean_environment: Path,
    server: FakeLLMServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    config = "moderation:\n  llm_verdict: true\n  replacement: '[цензура]'\n"
    return make_check_cli(make_cli, clean_environment, server, monkeypatch, config)


def test_near_the_threshold_the_moderator_prompt_decides(cli: Cli, server: FakeLLMServer) -> None:
    server.script(Reply.of_text(json.dumps(VIOLATION)))
    result = cli("moderate", "check", NEAR, "--json")
    assert result.code == 0, result.err
    [request] = chats(server)
    system, user = (m["content"] for m in request.json["messages"])
    assert system.startswith(MODERATOR_SYSTEM)
    assert NEAR in user and "score: 15 (threshold 30)" in user
    assert "rule: suspicious_url bit.ly/abc123 +15" in user
    data = result.json()
    assert data["spam"]["spam"] is False  # the score alone says "not spam"
    assert data["decided_by"] == "llm" and data["flagged"] is True
    assert data["llm"]["violation"] is True and data["llm"]["severity"] == "high"
    assert data["llm"]["reason"] == "Advertising a shortened link."
    assert KEY not in result.out + result.err


def test_the_model_can_clear_a_text_the_score_calls_spam(cli: Cli, server: FakeLLMServer) -> None:
    server.script(Reply.of_text(f"```json\n{json.dumps(FINE)}\n```"))
    result = cli("moderate", "check", NEAR_SPAM)
    assert result.code == 0, result.err
    assert len(chats(server)) == 1
    assert "spam score: 40 (threshold 30: spam)" in result.out
    assert "LLM verdict (openai gpt-4o-mini): no violation, severity low" in result.out
    assert "decision: not spam (by the LLM verdict)" in result.out


def test_far_from_the_threshold_no_request_is_made(cli: Cli, server: FakeLLMServer) -> None:
    result = cli("moderate", "check", FAR, "--json")
    assert result.code == 0, result.err
    assert result.json()["decided_by"] == "score"
    spam = "Регистрируйся на bybit, бонус до 1000 usdt bit.ly/x bit.ly/y clck.ru/z"
    far_above = cli("moderate", "check", spam, "--json")
    assert far_above.json()["spam"]["score"] >= 60 and far_above.json()["flagged"] is True
    assert server.requests == []


def test_a_failing_model_leaves_the_decision_to_the_score(cli: Cli, server: FakeLLMServer) -> None:
    server.script(Reply.error(500), Reply.error(500))
    result = cli("moderate", "check", NEAR_SPAM)
    assert result.code == 0, result.err
    assert len(chats(server)) == 2  # llm.max_retries attempts, then the score
    assert "no LLM verdict: openai error 500" in result.err
    assert "decision: spam (the score decides)" in result.out
    server.script(Reply.of_text("I would rather not say"), Reply.of_text("no"))
    data = cli("moderate", "check", NEAR, "--json").json()
    assert data["decided_by"] == "score" and data["flagged"] is False
    assert "not the JSON asked for" in data["llm_error"]


def test_without_llm_verdict_no_model_is_asked(
    make_cli: Callable[..., Cli],
    clean_environment: Path,
    server: FakeLLMServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli = make_check_cli(make_cli, clean_environment, server, monkeypatch, "moderation: {}\n")
    result = cli("moderate", "check", NEAR, "--json")
    assert result.code == 0, result.err
    assert result.json()["decided_by"] == "score" and server.requests == []


def test_scenario_24_exceptions_are_clean_and_obscenity_is_censored(
    cli: Cli, server: FakeLLMServer
) -> None:
    for clean in ("мудрый совет", "сукно"):
        data = cli("moderate", "check", clean, "--json").json()
        assert data["profanity"] == [] and data["censored"] is None, clean
    result = cli("moderate", "check", "ну ты мудак, а он мудачина", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["profanity"] == ["мудак", "мудачина"]
    assert data["censored"] == "ну ты [цензура], а он [цензура]"
    human = cli("moderate", "check", "Ну ты МУДАК")
    assert "censored: Ну ты [цензура]" in human.out
    assert server.requests == []  # profanity alone never asks the model


# --------------------------------------------------------------------------- the watch

TEAM = -1001234567890


@pytest.fixture
async def judge(server: FakeLLMServer, fake_clock: FakeClock) -> AsyncIterator[LLMJudge]:
    target = LLMTarget(
        command="moderate", provider="openai", model="gpt-4o-mini", base_url=server.openai_url,
        api_key=SecretStr(KEY), key_env="OPENAI_API_KEY", temperature=None, max_tokens=None,
        timeout_s=10, max_retries=1, requests_per_minute=600, cache=False,
    )  # fmt: skip
    library = PromptLibrary()
    client: LLMClient
    async with create_llm_client(target, load_catalogue(), clock=fake_clock) as client:
        yield LLMJudge(client, library.load("moderator"), library.load("json_retry"))


async def test_decide_asks_only_near_the_threshold(judge: LLMJudge, server: FakeLLMServer) -> None:
    moderator = Moderator.from_settings(ModerationSettings()).with_llm(judge)
    server.script(Reply.of_text(json.dumps(FINE)))
    cleared = await moderator.decide(NEAR_SPAM, chat_name="Team")
    assert not cleared.flagged and cleared.llm is not None and cleared.spam.is_spam
    assert "Chat: Team" in chats(server)[0].json["messages"][-1]["content"]
    assert not (await moderator.decide(FAR)).flagged
    assert len(chats(server)) == 1


async def test_watch_follows_the_llm_verdict(
    tmp_path: Path, judge: LLMJudge, server: FakeLLMServer
) -> None:
    clock = FakeClock()
    world = FakeTelegram()
    world.add_me(1000, "Me", phone="+15550001000")
    bob = world.add_user(1002, "Bob", dialog=True)
    world.add_supergroup(1234567890, "Team", members=[bob])
    options = session_options(world, tmp_path, clock, receive_updates=True)
    log: list[str] = []
    moderator = Moderator.from_settings(ModerationSettings()).with_llm(judge)
    server.script(Reply.of_text(json.dumps(FINE)), Reply.of_text(json.dumps(VIOLATION)))
    async with open_session(options) as gateway:
        chat = await gateway.resolve_chat(str(TEAM))
        watch = ModerationWatch(
            gateway, chat, moderator, WatchOptions(delete=True),
            AuditLog(tmp_path / "audit.jsonl", "default"), clock, log.append,
        )  # fmt: skip
        world.set_admin_rights(TEAM, {"delete_messages"})
        task = asyncio.create_task(watch.follow(await watch.start()))
        await asyncio.sleep(0.05)
        world.add_message(TEAM, 1, text=NEAR_SPAM, sender=1002, date=clock.now())
        world.add_message(TEAM, 2, text=NEAR, sender=1002, date=clock.now())
        for _ in range(500):  # until the second verdict has been acted on (or 5 s)
            if watch.counts.judged == 2 and "would delete #2" in log:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # nothing more may follow
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert watch.counts.flagged == 1
    assert log.count("would delete #2") == 1 and "would delete #1" not in log
    assert any("LLM: high — Advertising a shortened link." in line for line in log)
    assert len(chats(server)) == 2
