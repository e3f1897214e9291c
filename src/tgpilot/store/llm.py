"""The LLM tables: one usage row per call, and the response cache (spec ai.md §1.5).

:class:`LLMRepository` works on an open :class:`~tgpilot.store.Store`'s engine and is
what the LLM gateway is given as its usage recorder and response cache
(:class:`~tgpilot.gateways.llm.client.UsageRecorder`,
:class:`~tgpilot.gateways.llm.client.ResponseCache`). Totals for ``llm usage`` are
summed here, by command, model or UTC day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from tgpilot.gateways.llm.types import CachedAnswer, UsageRecord, UsageTotals
from tgpilot.gateways.llm.types import Usage as TokenUsage
from tgpilot.store.repository import Repository
from tgpilot.store.schema import (
    LLM_MODEL_LENGTH,
    LLM_NAME_LENGTH,
    LLM_STATUS_LENGTH,
    llm_cache,
    llm_usage,
)
from tgpilot.store.text import clip
from tgpilot.store.types import as_utc

if TYPE_CHECKING:
    pass

GroupBy = Literal["command", "model", "day"]


def _usage_values(record: UsageRecord) -> dict[str, Any]:
    return {
        "time": as_utc(record.time),
        "command": clip(record.command, LLM_NAME_LENGTH),
        "provider": record.provider,
        "model": clip(record.model, LLM_MODEL_LENGTH),
        "operation": record.operation,
        "prompt_name": clip(record.prompt_name, LLM_NAME_LENGTH),
        "prompt_hash": record.prompt_hash,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cached_tokens": record.cached_tokens,
        "cost_usd": record.cost_usd,
        "latency_ms": record.latency_ms,
        "retries": record.retries,
        "status": clip(record.status, LLM_STATUS_LENGTH),
        "cache_hit": record.cache_hit,
    }


def _record_from_row(row: Mapping[Any, Any]) -> UsageRecord:
    return UsageRecord(
        time=row["time"],
        command=row["command"],
        provider=row["provider"],
        model=row["model"],
        operation=row["operation"],
        status=row["status"],
        input_tokens=int(row["input_tokens"]),
        output_tokens=int(row["output_tokens"]),
        cached_tokens=int(row["cached_tokens"]),
        cost_usd=float(row["cost_usd"]) if row["cost_usd"] is not None else None,
        latency_ms=int(row["latency_ms"]),
        retries=int(row["retries"]),
        cache_hit=bool(row["cache_hit"]),
        prompt_name=row["prompt_name"],
        prompt_hash=row["prompt_hash"],
    )


def _group_of(record: UsageRecord, by: GroupBy) -> str:
    if by == "command":
        return record.command
    if by == "model":
        return f"{record.provider}/{record.model}"
    return as_utc(record.time).date().isoformat()


def sum_usage(records: list[UsageRecord], by: GroupBy) -> list[UsageTotals]:
    """Totals per group, in group order; a group's cost is None if any call's is."""
    groups: dict[str, list[UsageRecord]] = {}
    for record in records:
        groups.setdefault(_group_of(record, by), []).append(record)
    totals: list[UsageTotals] = []
    for name in sorted(groups):
        rows = groups[name]
        costs = [r.cost_usd for r in rows]
        totals.append(
            UsageTotals(
                group=name,
                calls=len(rows),
                input_tokens=sum(r.input_tokens for r in rows),
                output_tokens=sum(r.output_tokens for r in rows),
                cached_tokens=sum(r.cached_tokens for r in rows),
                cost_usd=None if None in costs else round(sum(c or 0.0 for c in costs), 12),
                failures=sum(1 for r in rows if r.status != "ok"),
                cache_hits=sum(1 for r in rows if r.cache_hit),
            )
        )
    return totals


class LLMRepository(Repository):
    """Reads and writes the LLM tables of one open store."""

    # ----------------------------------------------------------------- usage

    async def record_usage(self, record: UsageRecord) -> None:
        """Add one ``llm_usage`` row."""
        async with self._guard("recording LLM usage"), self._writer.begin() as conn:
            await conn.execute(insert(llm_usage), [_usage_values(record)])

    async def usage_records(self, since: datetime | None = None) -> list[UsageRecord]:
        """Every usage row (from ``since`` on, if given), oldest first."""
        statement = select(llm_usage).order_by(llm_usage.c.time, llm_usage.c.id)
        if since is not None:
            statement = statement.where(llm_usage.c.time >= as_utc(since))
        async with self._guard("reading LLM usage"), self._engine.connect() as conn:
            result = await conn.execute(statement)
            return [_record_from_row(row) for row in result.mappings()]

    async def usage_totals(self, by: GroupBy, since: datetime | None = None) -> list[UsageTotals]:
        """Calls, tokens and cost per command, model or UTC day."""
        return sum_usage(await self.usage_records(since), by)

    # ----------------------------------------------------------------- cache

    async def cached_answer(self, key: str) -> CachedAnswer | None:
        """The stored answer to the request with hash ``key``, or None."""
        statement = select(llm_cache).where(llm_cache.c.key == key)
        async with self._guard("reading the LLM cache"), self._engine.connect() as conn:
            row = (await conn.execute(statement)).mappings().first()
        if row is None:
            return None
        usage = row["usage"] or {}
        return CachedAnswer(
            key=row["key"],
            provider=row["provider"],
            model=row["model"],
            text=row["answer"],
            usage=TokenUsage(
                int(usage.get("input_tokens", 0)),
                int(usage.get("output_tokens", 0)),
                int(usage.get("cached_tokens", 0)),
            ),
            finish_reason=row["finish_reason"],
            created_at=row["created_at"],
        )

    async def save_answer(self, answer: CachedAnswer) -> None:
        """Keep ``answer`` under its request hash (replacing an older one)."""
        values = {
            "provider": answer.provider,
            "model": clip(answer.model, LLM_MODEL_LENGTH),
            "answer": answer.text,
            "usage": answer.usage.to_json(),
            "finish_reason": clip(answer.finish_reason, LLM_STATUS_LENGTH),
            "created_at": as_utc(answer.created_at),
        }
        exists = select(llm_cache.c.key).where(llm_cache.c.key == answer.key)
        async with self._guard("saving to the LLM cache"):
            try:
                async with self._writer.begin() as conn:
                    if (await conn.execute(exists)).first() is None:
                        await conn.execute(insert(llm_cache), [{"key": answer.key, **values}])
                    else:
                        await conn.execute(
                            update(llm_cache).where(llm_cache.c.key == answer.key).values(values)
                        )
            except IntegrityError:
                pass  # another process cached the same request at the same moment
