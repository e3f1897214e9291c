"""The LLM tables on SQLite, MariaDB and PostgreSQL (ai.md §1.5): migration 0003, usage
rows with exact costs and null prices, totals, and the response cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from tgpilot.gateways.llm.types import CachedAnswer, Usage, UsageRecord
from tgpilot.store import Store
from tgpilot.store.llm import LLMRepository
from tgpilot.store.migrate import head_revision

T0 = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def row(**changes: Any) -> UsageRecord:
    values: dict[str, Any] = {
        "time": T0,
        "command": "analyze",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "operation": "complete",
        "status": "ok",
        "input_tokens": 12,
        "output_tokens": 5,
        "cost_usd": 0.000022,
        "latency_ms": 840,
        "prompt_name": "analyze",
        "prompt_hash": "9f" * 32,
    }
    values.update(changes)
    return UsageRecord(**values)


async def test_migration_0003_creates_the_llm_tables(store: Store) -> None:
    assert head_revision() >= "0003"
    assert await store.revision() == head_revision()

    def describe(conn: Connection) -> dict[str, Any]:
        inspector = inspect(conn)
        return {
            "usage": {c["name"] for c in inspector.get_columns("llm_usage")},
            "cache": {c["name"] for c in inspector.get_columns("llm_cache")},
            "cache_pk": inspector.get_pk_constraint("llm_cache")["constrained_columns"],
            "indexes": sorted(i["name"] for i in inspector.get_indexes("llm_usage")),
        }

    async with store.engine.connect() as conn:
        schema = await conn.run_sync(describe)
    assert schema["usage"] == {
        "id", "time", "command", "provider", "model", "operation", "prompt_name",
        "prompt_hash", "input_tokens", "output_tokens", "cached_tokens", "cost_usd",
        "latency_ms", "retries", "status", "cache_hit",
    }  # fmt: skip
    assert schema["cache"] == {
        "key", "provider", "model", "answer", "usage", "finish_reason", "created_at",
    }  # fmt: skip
    assert schema["cache_pk"] == ["key"]
    assert schema["indexes"] == ["ix_llm_usage_command", "ix_llm_usage_time"]


async def test_usage_rows_read_back_whole_with_exact_cost(store: Store) -> None:
    repository = LLMRepository(store)
    await repository.record_usage(row())
    await repository.record_usage(
        row(
            time=T0 + timedelta(seconds=1),
            model="mystery",
            status="unavailable",
            cost_usd=None,
            retries=4,
            cache_hit=False,
            prompt_name=None,
            prompt_hash=None,
        )
    )
    await repository.record_usage(row(time=T0 + timedelta(seconds=2), cache_hit=True, cost_usd=0.0))
    rows = await repository.usage_records()
    assert rows[0] == row()
    assert rows[0].cost_usd == 0.000022
    assert (rows[1].cost_usd, rows[1].retries, rows[1].status) == (None, 4, "unavailable")
    assert rows[2].cache_hit is True
    assert await repository.usage_records(since=T0 + timedelta(seconds=1)) == rows[1:]


async def test_totals_by_command_model_and_day(store: Store) -> None:
    repository = LLMRepository(store)
    await repository.record_usage(row())
    await repository.record_usage(row(command="digest", time=T0 + timedelta(days=1)))
    await repository.record_usage(row(command="digest", model="mystery", cost_usd=None))
    by_command = {t.group: t for t in await repository.usage_totals("command")}
    assert by_command["analyze"].calls == 1
    assert by_command["analyze"].cost_usd == 0.000022
    assert by_command["digest"].calls == 2 and by_command["digest"].cost_usd is None
    by_model = [t.group for t in await repository.usage_totals("model")]
    assert by_model == ["openai/gpt-4o-mini", "openai/mystery"]
    by_day = {t.group: t.calls for t in await repository.usage_totals("day")}
    assert by_day == {"2024-03-10": 2, "2024-03-11": 1}


async def test_the_cache_keeps_one_answer_per_request_hash(store: Store) -> None:
    repository = LLMRepository(store)
    key = "ab" * 32
    assert await repository.cached_answer(key) is None
    answer = CachedAnswer(key, "openai", "gpt-4o-mini", "Привет 👋", Usage(12, 5, 3), "stop", T0)
    await repository.save_answer(answer)
    assert await repository.cached_answer(key) == answer
    newer = CachedAnswer(key, "openai", "gpt-4o-mini", "hi", Usage(1, 1, 0), None, T0)
    await repository.save_answer(newer)
    assert await repository.cached_answer(key) == newer
