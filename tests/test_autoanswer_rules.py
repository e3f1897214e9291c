"""The auto-responder's rules without Telegram: working hours, who may be answered, the
cooldown and caps, the request order and budget, splitting long answers, and the
``run``/``autoanswer`` configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tgpilot.core.config import ConfigOptions, load_config
from tgpilot.core.config.settings import AutoanswerSettings, ChatAlias
from tgpilot.core.config.working_hours import parse_working_hours
from tgpilot.core.errors import ConfigError
from tgpilot.gateways.telegram.account_feed import AccountUpdate
from tgpilot.models import Chat, ChatType, Message, Sender
from tgpilot.services.autoanswer.ledger import ReplyLedger
from tgpilot.services.autoanswer.request import build_request, history_turns
from tgpilot.services.autoanswer.rules import Audience
from tgpilot.services.autoanswer.streaming import split_text
from tgpilot.services.runtime.presence import is_run_command

SUNDAY_NOON = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
ALICE = Chat(1001, 1001, ChatType.USER, "Alice", "alice")
TEAM = Chat(-1000000000555, 555, ChatType.SUPERGROUP, "Team", "team")


def message(chat: Chat, text: str, *, at: datetime = SUNDAY_NOON, **kw: object) -> Message:
    sender = kw.pop("sender", Sender(1001, "Alice", "alice"))
    return Message(chat.id, int(kw.pop("id", 10)), at, text, sender, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- working hours


def test_working_hours_days_spans_overnight_and_zones() -> None:
    weekdays = parse_working_hours("mon-fri 09:00-20:00")
    assert not weekdays.contains(SUNDAY_NOON, UTC)
    assert weekdays.contains(SUNDAY_NOON + timedelta(days=1), UTC)
    assert not weekdays.contains(SUNDAY_NOON + timedelta(days=1, hours=8), UTC)  # 20:00
    overnight = parse_working_hours("sat 22:00-02:00")
    assert overnight.contains(datetime(2024, 3, 10, 1, 59, tzinfo=UTC), UTC)  # Sunday 01:59
    assert not overnight.contains(datetime(2024, 3, 10, 2, 0, tzinfo=UTC), UTC)
    moscow = parse_working_hours("mon-sun 09:00-14:00 Europe/Moscow")
    assert not moscow.contains(SUNDAY_NOON, UTC)  # 15:00 in Moscow
    assert parse_working_hours("mon-sun 09:00-14:00").contains(SUNDAY_NOON, UTC)
    assert parse_working_hours("fri-mon 00:00-24:00").contains(SUNDAY_NOON, UTC)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("weekdays", "cannot read"),
        ("mon-fry 09:00-10:00", "unknown day"),
        ("mon 09:00-25:00", "bad time"),
        ("mon 09:00-09:00", "empty span"),
        ("mon 09:00-10:00 Mars/Base", "unknown time zone"),
    ],
)
def test_malformed_working_hours_are_config_problems(
    text: str, problem: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.yml"
    config.write_text(f'autoanswer:\n  working_hours: "{text}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(ConfigOptions(config_file=config), {"TGPILOT_HOME": str(tmp_path)})
    assert "autoanswer.working_hours" in caught.value.message
    assert problem in caught.value.message


# ---------------------------------------------------------------- who is answered


def audience(**changes: object) -> Audience:
    settings = AutoanswerSettings.model_validate({"mode": "auto", **changes})
    aliases = {"boss": ChatAlias(username="the_boss")}
    return Audience.from_settings(settings, aliases, me_id=1000)


def reason(aud: Audience, update: AccountUpdate, started: datetime = SUNDAY_NOON) -> str | None:
    return aud.reason(update, started=started, now=SUNDAY_NOON + timedelta(seconds=5))


def test_never_answered_rules() -> None:
    aud = audience()
    assert reason(aud, AccountUpdate("new", ALICE, message(ALICE, "Привет"))) is None
    cases = {
        "outgoing": message(ALICE, "hi", is_outgoing=True),
        "blank": message(ALICE, "  \n "),
        "media without text": message(ALICE, "", media_type="photo"),
        "service message": message(ALICE, "", is_service=True),
        "before the start": message(ALICE, "early", at=SUNDAY_NOON - timedelta(seconds=1)),
        "bot": message(ALICE, "beep", sender=Sender(1003, "Helper", is_bot=True)),
    }
    for expected, msg in cases.items():
        assert reason(aud, AccountUpdate("new", ALICE, msg)) == expected
    old = message(ALICE, "old", at=SUNDAY_NOON - timedelta(minutes=10))
    assert reason(aud, AccountUpdate("new", ALICE, old), started=old.date) == "too old"
    service = Chat(777000, 777000, ChatType.USER, "Telegram")
    assert reason(aud, AccountUpdate("new", service, message(service, "code"))) is not None
    bot_chat = Chat(1003, 1003, ChatType.BOT, "Helper")
    assert reason(aud, AccountUpdate("new", bot_chat, message(bot_chat, "x"))) == "bot chat"


def test_groups_need_private_only_off_and_a_mention() -> None:
    in_group = message(TEAM, "@owner?")
    assert reason(audience(), AccountUpdate("new", TEAM, in_group)) == "group (private_only)"
    groups = audience(private_only=False)
    assert reason(groups, AccountUpdate("new", TEAM, in_group)) == (
        "group message without a mention"
    )
    assert reason(groups, AccountUpdate("new", TEAM, in_group, mentioned=True)) is None


def test_allow_and_deny_match_ids_usernames_and_aliases_and_deny_wins() -> None:
    hello = AccountUpdate("new", ALICE, message(ALICE, "hello"))
    assert reason(audience(allow=["@alice"]), hello) is None
    assert reason(audience(allow=["1001"]), hello) is None
    assert reason(audience(allow=["bob"]), hello) == "not allowed"
    assert reason(audience(allow=["alice"], deny=["1001"]), hello) == "denied"
    boss = Chat(7, 7, ChatType.USER, "Boss", "the_boss")
    from_boss = AccountUpdate("new", boss, message(boss, "hi", sender=Sender(7, "Boss")))
    assert reason(audience(deny=["boss"]), from_boss) == "denied"
    assert reason(audience(allow=["-1000000000555"], private_only=False), hello) == "not allowed"


# ---------------------------------------------------------------- limits


def test_cooldown_hourly_caps_and_one_away_text_per_12_hours() -> None:
    settings = AutoanswerSettings(cooldown_s=60, per_chat_hourly=2, global_hourly=3)
    ledger = ReplyLedger(settings)
    t = SUNDAY_NOON
    assert ledger.blocked(1, t) is None
    ledger.add(1, 1, "reply", t)
    assert ledger.blocked(1, t + timedelta(seconds=59)) == "cooldown"
    assert ledger.blocked(2, t + timedelta(seconds=59)) is None
    ledger.add(2, 1, "draft", t + timedelta(minutes=2))
    assert ledger.blocked(1, t + timedelta(minutes=5)) == "per-chat hourly cap"
    assert ledger.blocked(1, t + timedelta(minutes=61)) is None
    ledger.add(3, 2, "reply", t + timedelta(minutes=3))
    assert ledger.blocked(3, t + timedelta(minutes=5)) == "global hourly cap"
    ledger.forget(3)
    assert ledger.blocked(3, t + timedelta(minutes=5)) is None
    assert ledger.away_due(1, t)
    ledger.add(4, 1, "away", t)
    assert not ledger.away_due(1, t + timedelta(hours=11))
    assert ledger.away_due(1, t + timedelta(hours=12))
    assert ledger.blocked(1, t + timedelta(hours=2)) is None  # away texts are not answers


# ---------------------------------------------------------------- the request


def test_request_order_roles_history_and_budget() -> None:
    me = Sender(1000, "Owner")
    stored = [  # newest first, as the store reads it
        message(ALICE, "new one", id=13),
        message(ALICE, "Отвечу позже", id=12, is_outgoing=True, sender=me),
        message(ALICE, "вопрос", id=11),
        message(ALICE, "", id=10, is_service=True),
        message(ALICE, "самое старое " * 50, id=9),
    ]
    burst = [stored[0]]
    history = history_turns(stored, burst, turns=10)
    assert [m.id for m in history] == [9, 11, 12]

    def words(text: str) -> int:
        return len(text.split())

    request = build_request("SYSTEM", history, burst, budget=10, count_tokens=words)
    assert [(m.role, m.content) for m in request] == [
        ("system", "SYSTEM"),
        ("user", "вопрос"),
        ("assistant", "Отвечу позже"),
        ("user", "new one"),
    ]
    assert history_turns(stored, burst, turns=1) == [stored[1]]


def test_long_answers_split_at_4096_on_line_breaks_or_spaces() -> None:
    text = ("слово " * 900).strip() + "\n" + "x" * 5000
    pieces = split_text(text)
    assert all(len(p) <= 4096 for p in pieces)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )
    assert pieces[0].endswith("слово")
    assert split_text("short") == ["short"]


# ---------------------------------------------------------------- config and presence


def test_run_and_autoanswer_sections_load_from_yaml_and_env(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        "autoanswer:\n  mode: off\n  allow: ['@alice']\n  working_hours: null\n"
        "run:\n  metrics_addr: 127.0.0.1:9464\n  handlers:\n"
        "    - {kind: export, chat: team, out: team.jsonl}\n",
        encoding="utf-8",
    )
    env = {
        "TGPILOT_HOME": str(tmp_path),
        "TGPILOT_AUTOANSWER__DEBOUNCE_S": "5",
    }
    loaded = load_config(ConfigOptions(config_file=config), env)
    assert loaded.autoanswer.mode == "off"
    assert loaded.autoanswer.allow == ["@alice"]
    assert loaded.autoanswer.working_hours is None
    assert loaded.autoanswer.debounce_s == 5
    assert loaded.run.metrics_addr == "127.0.0.1:9464"
    assert loaded.run.moderate == []
    assert loaded.run.export_watch[0].format == "jsonl"
    env["TGPILOT_RUN__HANDLERS"] = '[{"kind": "moderate", "chat": "team", "warn": true}]'
    loaded = load_config(ConfigOptions(config_file=config), env)
    assert [(m.chat, m.warn) for m in loaded.run.moderate] == [("team", True)]
    assert loaded.run.export_watch == []
    config.write_text("run:\n  metrics_addr: 0.0.0.0:9464\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(ConfigOptions(config_file=config), env)
    assert "not a loopback address" in caught.value.message


def test_only_tgpilot_run_counts_as_the_run_holder() -> None:
    assert is_run_command("tgpilot run")
    assert is_run_command("tgpilot --config /etc/t.yml --account work -v run --metrics-addr x")
    assert not is_run_command("tgpilot llm run hello")
    assert not is_run_command("tgpilot export team --watch")
    assert not is_run_command("tgpilot run --print-systemd-unit")
    assert not is_run_command("tgpilot --account run")
