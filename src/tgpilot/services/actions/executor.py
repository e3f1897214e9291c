"""Applying a plan: paced, item by item, every mutation audited (DESIGN rule 4).

The executor is the same for every kind of plan; what an item *does* belongs to the
kind's :class:`ActionHandler`, which groups items into requests (one reaction per
request; up to 100 deletes per request), re-checks items read back from a plan file, and
reports an :class:`ItemResult` per item. Each item ends ``done``, ``skipped (reason)``
or ``failed (reason)``; a flood wait over the threshold or a lost connection stops the
run, leaving the rest ``not processed`` so a rerun resumes (spec telegram-cli §1.5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from tgpilot.core.audit import AuditLog
from tgpilot.core.errors import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PARTIAL,
    FloodWaitTooLong,
    NetworkError,
    TgpilotError,
)
from tgpilot.services.actions.pacing import Pacing
from tgpilot.services.actions.plan import Plan, PlanItem

Status = Literal["done", "skipped", "failed"]


@dataclass(frozen=True)
class ItemResult:
    """How one item ended."""

    status: Status
    reason: str | None = None

    @classmethod
    def done(cls) -> ItemResult:
        return cls("done")

    @classmethod
    def skipped(cls, reason: str) -> ItemResult:
        return cls("skipped", reason)

    @classmethod
    def failed(cls, reason: str) -> ItemResult:
        return cls("failed", reason)

    def describe(self) -> str:
        return f"{self.status} ({self.reason})" if self.reason else self.status


class ActionHandler(Protocol):
    """What one kind of plan (``telegram.react``, ``telegram.clean``, …) knows."""

    kind: str

    def batches(self, items: Sequence[PlanItem]) -> Iterable[Sequence[PlanItem]]:
        """Items grouped as they are applied: one group per mutating request."""
        ...

    async def recheck(self, items: Sequence[PlanItem]) -> list[str | None]:
        """For items read back from a plan file: a skip reason per item, or None to go on."""
        ...

    async def apply(self, items: Sequence[PlanItem]) -> list[ItemResult]:
        """Carry out one group; per-item results in order. Raise to fail the group."""
        ...

    def audit_action(self, item: PlanItem) -> str:
        """The audit ``action`` name, e.g. ``telegram.react``."""
        ...

    def audit_params(self, item: PlanItem) -> dict[str, Any]:
        """What the audit line records beside the ids; never message text or secrets."""
        ...


@dataclass
class ApplyReport:
    """The outcome of applying a plan."""

    plan: Plan
    results: dict[int, ItemResult] = field(default_factory=dict)
    stopped: str | None = None

    def count(self, status: Status) -> int:
        planned = len(self.plan.skipped) if status == "skipped" else 0
        return planned + sum(1 for r in self.results.values() if r.status == status)

    @property
    def done(self) -> int:
        return self.count("done")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def not_processed(self) -> int:
        return len(self.plan.items) - len(self.results)

    @property
    def exit_code(self) -> int:
        """0 ok; 3 when some items failed or were left while others succeeded; 1 when
        every item failed or nothing could be done."""
        problems = self.failed + self.not_processed
        if not problems:
            return EXIT_OK
        return EXIT_PARTIAL if self.done else EXIT_ERROR

    def summary(self) -> str:
        text = f"done {self.done}, skipped {self.skipped}, failed {self.failed}"
        if self.not_processed:
            text += f", not processed {self.not_processed}"
        return text

    def to_json(self) -> dict[str, Any]:
        items = []
        for index, item in enumerate(self.plan.items):
            result = self.results.get(index)
            entry = item.to_json()
            entry["result"] = result.status if result else "not processed"
            entry["result_reason"] = result.reason if result else None
            items.append(entry)
        for item in self.plan.skipped:
            items.append({**item.to_json(), "result": "skipped", "result_reason": item.reason})
        return {
            "plan_id": self.plan.plan_id,
            "kind": self.plan.kind,
            "applied": True,
            "done": self.done,
            "skipped": self.skipped,
            "failed": self.failed,
            "not_processed": self.not_processed,
            "stopped": self.stopped,
            "items": items,
        }


@dataclass
class Executor:
    """Applies plans for one account, pacing requests and writing the audit log."""

    audit: AuditLog
    command: str
    now: Callable[[], datetime]
    pacing: Pacing
    flood_listeners: list[Callable[[int], None]] | None = None
    progress: Callable[[int, int | None], None] | None = None

    async def run(self, plan: Plan, handler: ActionHandler, *, recheck: bool) -> ApplyReport:
        """Apply every item of ``plan`` (re-checking each first when it came from a file)."""
        report = ApplyReport(plan)
        index_of = {id(item): n for n, item in enumerate(plan.items)}
        listeners = self.flood_listeners if self.flood_listeners is not None else []
        listeners.append(self.pacing.on_flood)
        try:
            for batch in handler.batches(plan.items):
                try:
                    await self._run_batch(report, handler, list(batch), index_of, recheck)
                except FloodWaitTooLong as exc:
                    report.stopped = (
                        f"{exc.message.removesuffix('; rerun to resume')}: stopped after"
                        f" {len(report.results)} of {len(plan.items)} items; rerun to resume"
                    )
                    break
                except NetworkError as exc:
                    report.stopped = (
                        f"{exc.message}: stopped after {len(report.results)} of"
                        f" {len(plan.items)} items; rerun to resume"
                    )
                    break
                if self.progress is not None:
                    self.progress(len(report.results), len(plan.items))
        finally:
            listeners.remove(self.pacing.on_flood)
        return report

    async def _run_batch(
        self,
        report: ApplyReport,
        handler: ActionHandler,
        batch: list[PlanItem],
        index_of: dict[int, int],
        recheck: bool,
    ) -> None:
        if recheck:
            reasons = await handler.recheck(batch)
            for item, reason in zip(batch, reasons, strict=True):
                if reason is not None:
                    self._finish(report, handler, item, index_of, ItemResult.skipped(reason))
            batch = [item for item, reason in zip(batch, reasons, strict=True) if reason is None]
            if not batch:
                return
        await self.pacing.wait()
        try:
            results = await handler.apply(batch)
        except (FloodWaitTooLong, NetworkError):
            raise
        except TgpilotError as exc:
            results = [ItemResult.failed(exc.message)] * len(batch)
        else:
            self.pacing.on_success()
        for item, result in zip(batch, results, strict=True):
            self._finish(report, handler, item, index_of, result)

    def _finish(
        self,
        report: ApplyReport,
        handler: ActionHandler,
        item: PlanItem,
        index_of: dict[int, int],
        result: ItemResult,
    ) -> None:
        report.results[index_of[id(item)]] = result
        params = handler.audit_params(item)
        if result.status == "skipped":
            params = {**params, "reason": result.reason}
        self.audit.record(
            ts=self.now(),
            command=self.command,
            action=handler.audit_action(item),
            plan_id=report.plan.plan_id,
            chat_id=item.chat_id,
            message_id=item.message_id,
            params=params,
            result="ok" if result.status == "done" else result.status,
            error=result.reason if result.status == "failed" else None,
        )
