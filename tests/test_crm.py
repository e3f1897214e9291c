"""``tgpilot crm`` end to end on the fake LLM server, and the CRM tables on SQLite,
MariaDB and PostgreSQL (spec ai.md §4.3, §5; scenarios 17–20): fenced and bare answers,
idempotent re-runs, answers without deals, the pattern fallback after garbage, local
extraction, CSV quoting, and upserts by natural key with provenance."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from tests.analyze_fixtures import ANNA, BORIS, FROZEN_NOW, at, message, single_chat, write_export
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLMServer, Reply
from tests.fakes.telegram import FakeTelegram
from tests.harness import Cli, CliResult
from tgpilot.services.ai.crm import normalise_phone
from tgpilot.services.ai.crm.llm import crm_line
from tgpilot.store import Store, UpsertCounts
from tgpilot.store.crm import (
    CrmAction,
    CrmContact,
    CrmDeal,
    CrmRepository,
    Provenance,
)

KEY = "sk-test-0123456789abcdef"
COMPANY = 'Acme, "Best" Inc.'
LOCAL_TEXT = "пишите sales@example.com или +1 202 555 0143, tg @acme_sales"

ANSWER: dict[str, Any] = {
    "contacts": [
        {
            "name": "Anna Petrova",
            "company": COMPANY,
            "role": "CTO",
            "phone": "+1 (202) 555-0143",
            "email": "Anna@Acme.example",
            "telegram": "anna_p",
            "interests": ["licences"],
            "temperature": "Hot",
            "notes": "Wants a discount",
        }
    ],
    "deals": [
        {
            "title": "Acme licences",
            "description": "100 licences",
            "stage": "Proposal",
            "estimated_value": "~5 000",
            "currency": "USD",
            "next_action": "Send the contract",
            "deadline": "2024-03-15",
        }
    ],
    "action_items": [
        {"task": "Send the contract", "assignee": "Boris", "due_date": "2024-03-11"},
    ],
    "sentiment": "Positive",
    "summary": "Acme is ready to buy 100 licences.",
}


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(FROZEN_NOW)


@pytest.fixture
def server(fake_clock: FakeClock) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(clock=fake_clock) as running:
        yield running


@pytest.fixture
def cli(
    make_cli: Callable[..., Cli], server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    """The CLI offline, its LLM the fake server with a key."""
    monkeypatch.setenv("TGPILOT_LLM__BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return make_cli(FakeTelegram(), logged_in=False)


def sales_chat() -> dict[str, Any]:
    return single_chat(
        [
            message(
                1,
                at(8, 10),
                ANNA,
                "Hi, Anna Petrova from Acme here, call me at +1 202 555 0143 or anna@acme.example",
            ),
            message(2, at(8, 11), BORIS, "Great! I will send the contract on Monday"),
            message(3, at(8, 12), ANNA, "Thanks, 5000 USD for the Acme licences is fine"),
        ],
        name="Sales",
    )


@pytest.fixture
def sales(tmp_path: Path) -> Path:
    return write_export(tmp_path / "sales", sales_chat())


def extract(cli: Cli, source: Path, *args: str) -> CliResult:
    return cli("crm", "extract", "Sales", "--source", str(source), "--json", *args)


def listed(cli: Cli, kind: str) -> list[dict[str, Any]]:
    result = cli("crm", "list", kind, "--json")
    assert result.code == 0, result.err
    rows: list[dict[str, Any]] = result.json()[kind]
    return rows


def fenced(document: Any) -> str:
    return "Here you go:\n```json\n" + json.dumps(document, indent=1) + "\n```\n"


# --------------------------------------------------------------------------- scenario 17


def test_scenario_17_fenced_and_bare_answers_store_the_same_records(
    cli: Cli, server: FakeLLMServer, sales: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TGPILOT_LLM__CACHE", "false")
    server.script(Reply.of_text(fenced(ANSWER)), Reply.of_text(json.dumps(ANSWER)))
    first = extract(cli, sales)
    assert first.code == 0, first.err
    document = first.json()
    assert document["method"] == "llm" and document["status"] == "ok"
    assert document["sentiment"] == "positive"
    assert document["saved"] == {
        kind: {"inserted": 1, "updated": 0, "unchanged": 0}
        for kind in ("contacts", "deals", "actions")
    }
    second = extract(cli, sales)
    assert second.code == 0, second.err
    assert second.json()["saved"] == {
        kind: {"inserted": 0, "updated": 0, "unchanged": 1}
        for kind in ("contacts", "deals", "actions")
    }
    assert len(server.requests_to("/chat/completions")) == 2

    [contact] = listed(cli, "contacts")
    assert contact["phone"] == "+12025550143"
    assert contact["email"] == "anna@acme.example"
    assert contact["telegram"] == "@anna_p"
    assert contact["company"] == COMPANY
    assert contact["temperature"] == "hot"
    assert contact["source"]["method"] == "llm"
    assert contact["source"]["chat"] == "Sales"
    assert contact["source"]["extracted_at"] == "2024-03-10T12:00:00Z"
    assert contact["message_ids"] == [1]  # the message naming her
    [deal] = listed(cli, "deals")
    assert (deal["stage"], deal["value"], deal["deadline"]) == ("proposal", 5000.0, "2024-03-15")
    [action] = listed(cli, "actions")
    assert action["task"] == "Send the contract" and action["due_date"] == "2024-03-11"


def test_the_request_carries_crm_lines(cli: Cli, server: FakeLLMServer, sales: Path) -> None:
    server.script(Reply.of_text(json.dumps(ANSWER)))
    result = extract(cli, sales)
    assert result.code == 0, result.err
    [request] = server.requests_to("/chat/completions")
    user = request.json["messages"][-1]["content"]
    assert "[08.03 11:00] Boris: Great! I will send the contract on Monday" in user
    assert "LLM plan: 1 call" in result.err and "LLM usage: 1 call" in result.err
    assert result.json()["usage"]["calls"] == 1


def test_the_console_lists_summary_sentiment_and_records(
    cli: Cli, server: FakeLLMServer, sales: Path
) -> None:
    server.script(Reply.of_text(json.dumps(ANSWER)))
    result = cli("crm", "extract", "Sales", "--source", str(sales))
    assert result.code == 0, result.err
    assert "Summary: Acme is ready to buy 100 licences." in result.out
    assert "Sentiment: 😊 positive" in result.out
    assert "Contacts (1):" in result.out and "Anna Petrova" in result.out
    assert "Acme licences [proposal, 5000 USD, by 2024-03-15]" in result.out
    assert "Send the contract — Boris (due 2024-03-11)" in result.out


# --------------------------------------------------------------------------- scenario 18


def test_scenario_18_an_answer_without_deals(cli: Cli, server: FakeLLMServer, sales: Path) -> None:
    answer = {key: value for key, value in ANSWER.items() if key != "deals"}
    server.script(Reply.of_text(json.dumps(answer)))
    result = extract(cli, sales)
    assert result.code == 0, result.err
    saved = result.json()["saved"]
    assert saved["contacts"]["inserted"] == 1 and saved["actions"]["inserted"] == 1
    assert saved["deals"] == {"inserted": 0, "updated": 0, "unchanged": 0}
    assert listed(cli, "deals") == []


def test_scenario_18_garbage_twice_falls_back_to_patterns(
    cli: Cli, server: FakeLLMServer, sales: Path
) -> None:
    server.script(Reply.of_text("Sorry, I cannot help"), Reply.of_text("Still no JSON"))
    result = extract(cli, sales)
    assert result.code == 3, result.err
    assert len(server.requests_to("/chat/completions")) == 2
    document = result.json()
    assert document["method"] == "regex" and document["status"] == "unparsed"
    raw = Path(document["raw"])
    assert raw.name.endswith(".crm.raw.txt") and "Sorry, I cannot help" in raw.read_text()
    [contact] = document["contacts"]
    assert (contact["name"], contact["phone"], contact["email"]) == (
        "Anna",
        "+12025550143",
        "anna@acme.example",
    )
    assert document["deals"] == [] and document["actions"] == []
    [stored] = listed(cli, "contacts")
    assert stored["source"]["method"] == "regex" and stored["source"]["model"] is None


def test_a_failing_provider_falls_back_degraded(
    cli: Cli, server: FakeLLMServer, sales: Path
) -> None:
    server.script(*[Reply.error(503, "Service Unavailable")] * 5)
    result = extract(cli, sales)
    assert result.code == 3, result.err
    document = result.json()
    assert document["degraded"] is True and document["status"] == "failed"
    assert len(document["contacts"]) == 1


# --------------------------------------------------------------------------- scenario 19


def test_scenario_19_local_extraction_by_patterns(
    cli: Cli, server: FakeLLMServer, tmp_path: Path
) -> None:
    chat = single_chat(
        [
            message(1, at(8, 9), ANNA, LOCAL_TEXT),
            message(2, at(8, 10), BORIS, "Созвонимся завтра, спасибо"),
        ],
        name="Sales",
    )
    source = write_export(tmp_path / "local", chat)
    result = extract(cli, source, "--provider", "local")
    assert result.code == 0, result.err
    assert server.requests == []
    document = result.json()
    assert document["provider"] == "local" and document["usage"] is None
    [contact] = document["contacts"]
    assert contact["email"] == "sales@example.com"
    assert contact["phone"] == "+12025550143"
    assert contact["telegram"] == "@acme_sales"
    assert contact["name"] == "Anna" and contact["message_ids"] == [1]
    assert document["deals"] == []


def test_no_key_gives_a_notice_and_patterns(make_cli: Callable[..., Cli], sales: Path) -> None:
    cli = make_cli(FakeTelegram(), logged_in=False)
    result = extract(cli, sales, "--provider", "openai")
    assert result.code == 0, result.err
    assert "no API key for openai" in result.err
    assert result.json()["method"] == "regex"


def test_no_messages_means_no_call_and_exit_0(cli: Cli, server: FakeLLMServer, sales: Path) -> None:
    result = extract(cli, sales, "--days", "1")
    assert result.code == 0, result.err
    assert server.requests == []
    document = result.json()
    assert document["messages"] == 0 and document["contacts"] == []
    assert document["saved"] is None


# --------------------------------------------------------------------------- scenario 20


def test_scenario_20_csv_quoting_and_headers(
    cli: Cli, server: FakeLLMServer, sales: Path, tmp_path: Path
) -> None:
    server.script(Reply.of_text(json.dumps(ANSWER)))
    assert extract(cli, sales).code == 0
    contacts_csv = tmp_path / "contacts.csv"
    result = cli("crm", "export", "contacts", "--csv", str(contacts_csv))
    assert result.code == 0, result.err
    text = contacts_csv.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "name,company,role,phone,email,telegram"
    assert '"Acme, ""Best"" Inc."' in text
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["company"] == COMPANY and row["phone"] == "+12025550143"

    deals_csv = tmp_path / "deals.csv"
    assert cli("crm", "export", "deals", "--csv", str(deals_csv), "--excel").code == 0
    raw = deals_csv.read_bytes().decode("utf-8")
    assert raw.startswith("\ufefftitle,description,stage,value,next_action,deadline\r\n")
    assert "Acme licences,100 licences,proposal,5000,Send the contract,2024-03-15" in raw

    actions_csv = tmp_path / "actions.csv"
    exported = cli("crm", "export", "actions", "--csv", str(actions_csv), "--json")
    assert exported.json() == {"kind": "actions", "rows": 1, "file": str(actions_csv)}
    lines = actions_csv.read_text(encoding="utf-8").splitlines()
    assert lines == ["task,assignee,due_date,chat", "Send the contract,Boris,2024-03-11,Sales"]


def test_an_unknown_kind_exits_2(cli: Cli) -> None:
    result = cli("crm", "list", "leads")
    assert result.code == 2
    assert "unknown record kind 'leads'" in result.err


# --------------------------------------------------------------------------- units


def test_phones_lines_and_usernames() -> None:
    assert normalise_phone("+7 (912) 345-67-89") == "+79123456789"
    assert normalise_phone("call me") == "call me"
    assert normalise_phone("") == ""
    from tgpilot.models import Message, Sender

    line = crm_line(
        Message(1, 7, datetime(2024, 3, 8, 10, 5, tzinfo=UTC), "a\nb", Sender(1, "Anna")), UTC
    )
    assert line == "[08.03 10:05] Anna: a b"


# --------------------------------------------------------------------------- store

T0 = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def origin(
    chat_id: int = -1001, method: str = "llm", when: datetime = T0, model: str | None = "m"
) -> Provenance:
    return Provenance(chat_id, "Sales 🚀", when, method, model)  # type: ignore[arg-type]


async def test_migration_0004_creates_the_crm_tables(store: Store) -> None:
    def describe(conn: Connection) -> dict[str, set[str]]:
        inspector = inspect(conn)
        return {
            table: {c["name"] for c in inspector.get_columns(table)}
            for table in ("crm_contacts", "crm_deals", "crm_actions")
        }

    async with store.engine.connect() as conn:
        columns = await conn.run_sync(describe)
    provenance = {"chat_id", "chat_title", "message_ids", "extracted_at", "model", "method"}
    assert provenance <= columns["crm_contacts"]
    assert {"key_hash", "phone", "telegram", "urls"} <= columns["crm_contacts"]
    assert {"title", "stage", "value", "deadline"} | provenance <= columns["crm_deals"]
    assert {"task", "assignee", "due_date"} | provenance <= columns["crm_actions"]


async def test_upserts_by_natural_key_are_idempotent(store: Store) -> None:
    repository = CrmRepository(store)
    task = "Отправить договор 🚀 " * 200  # long text with 4-byte emoji
    contacts = [
        CrmContact(name="Anna", phone="+12025550143", interests=("a",), message_ids=(3, 1)),
        CrmContact(name="Anna P.", phone="+12025550143", company=COMPANY, message_ids=(2,)),
        CrmContact(email="x@example.com"),
        CrmContact(telegram="@acme"),
        CrmContact(name="Vera", company="Globex"),
        CrmContact(),
    ]
    deals = [CrmDeal("Licences", stage="proposal", value=5000.0, deadline=date(2024, 3, 15))]
    actions = [CrmAction(task, assignee="Boris", due_date=date(2024, 3, 11))]
    counts = await repository.save(origin(), contacts, deals, actions)
    assert counts.contacts == UpsertCounts(inserted=4)
    assert (counts.deals, counts.actions) == (UpsertCounts(inserted=1), UpsertCounts(inserted=1))

    again = await repository.save(origin(), contacts, deals, actions)
    assert again.contacts == UpsertCounts(unchanged=4)
    assert again.deals == UpsertCounts(unchanged=1) and again.actions == UpsertCounts(unchanged=1)

    stored = {c.phone or c.email or c.telegram or c.name: c for c in await repository.contacts()}
    anna = stored["+12025550143"]
    assert (anna.name, anna.company, anna.message_ids) == ("Anna P.", COMPANY, (1, 2, 3))
    assert anna.provenance is not None
    assert anna.provenance.chat_title == "Sales 🚀" and anna.provenance.extracted_at == T0
    [action] = await repository.actions()
    assert action.task == task and action.due_date == date(2024, 3, 11)


async def test_a_changed_record_is_updated_with_new_provenance(store: Store) -> None:
    repository = CrmRepository(store)
    await repository.save(origin(), [], [CrmDeal("Licences", stage="lead")])
    later = datetime(2024, 3, 11, 9, 0, tzinfo=UTC)
    counts = await repository.save(
        origin(when=later, method="regex", model=None),
        [],
        [CrmDeal("LICENCES", stage="unknown", next_action="Call")],
    )
    assert counts.deals == UpsertCounts(updated=1)
    [deal] = await repository.deals()
    assert (deal.title, deal.stage, deal.next_action) == ("LICENCES", "lead", "Call")
    assert deal.provenance is not None and deal.provenance.extracted_at == later
    other_chat = await repository.save(origin(chat_id=-1002), [], [CrmDeal("Licences")])
    assert other_chat.deals == UpsertCounts(inserted=1)
    assert len(await repository.deals()) == 2


def test_a_long_chat_is_mapped_and_merged_locally_on_keys(
    cli: Cli, server: FakeLLMServer, tmp_path: Path, tgpilot_home: Path
) -> None:
    tgpilot_home.mkdir(parents=True, exist_ok=True)
    (tgpilot_home / "models.yml").write_text(
        "models:\n  tiny-3k:\n    {provider: openai, window: 3000, max_output: 400, json: true}\n",
        encoding="utf-8",
    )
    texts = [
        message(i, at(8, 9 + i // 60, i % 60), ANNA, f"Message {i}: we still discuss the licences")
        for i in range(1, 121)
    ]
    source = write_export(tmp_path / "long", single_chat(texts, name="Sales"))
    parts = [
        {
            "contacts": [{"name": "Anna", "phone": "+12025550143", "role": role}],
            "deals": [{"title": title, "stage": stage}],
            "action_items": [{"task": f"Call back {index}"}],
            "sentiment": sentiment,
            "summary": f"Part {index}.",
        }
        for index, (role, title, stage, sentiment) in enumerate(
            [
                ("", "Licences", "lead", "neutral"),
                ("CTO", "LICENCES", "proposal", "positive"),
                ("", "licences", None, "positive"),
            ]
            * 10,
            start=1,
        )
    ]
    server.script(*[Reply.of_text(json.dumps(part)) for part in parts])
    result = extract(cli, source, "--model", "tiny-3k", "--limit", "0")
    assert result.code == 0, result.err
    requests = server.requests_to("/chat/completions")
    calls = len(requests)
    assert calls > 1 and f"LLM plan: {calls} calls ({calls} map + ≤ 0 reduce)" in result.err
    assert all("Part " in r.json["messages"][-1]["content"] for r in requests)
    document = result.json()
    [contact] = document["contacts"]
    assert contact["role"] == "CTO"
    [deal] = document["deals"]
    assert deal["stage"] == "proposal"
    assert len(document["actions"]) == calls
    assert document["sentiment"] == "positive"
    assert document["summary"].startswith("Part 1. Part 2.")


async def test_texts_longer_than_their_columns_are_clipped(store: Store) -> None:
    repository = CrmRepository(store)
    counts = await repository.save(origin(), [CrmContact(name="Я" * 300, email="a@b.example")])
    assert counts.contacts == UpsertCounts(inserted=1)
    [contact] = await repository.contacts()
    assert contact.name == "Я" * 255
