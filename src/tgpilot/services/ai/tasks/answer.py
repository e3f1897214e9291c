"""The JSON a model returns for ``tasks`` (prompt ``tasks``, spec ai.md §4.5), read
leniently: ``tasks{id, task, requested_by, due_date, priority high|medium|low}``. A
missing list is empty (no task is mine); dates read ISO or day-first; a priority
outside the allowed set (and its synonyms) is ``unknown``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from tgpilot.services.ai.answers import (
    LenientDate,
    LenientInt,
    LenientModel,
    LenientStr,
    ObjectList,
    lenient_enum,
)

PRIORITIES = ("high", "medium", "low")
PRIORITY_SYNONYMS = {
    "urgent": "high",
    "critical": "high",
    "normal": "medium",
    "med": "medium",
    "minor": "low",
}


class TaskAnswer(LenientModel):
    id: LenientInt = 0
    task: LenientStr = ""
    requested_by: LenientStr = ""
    due_date: LenientDate = None
    priority: Annotated[str, BeforeValidator(lenient_enum(PRIORITIES, PRIORITY_SYNONYMS))] = (
        "unknown"
    )


class TasksAnswer(LenientModel):
    """The answer of one call (all candidates, or one map part)."""

    tasks: ObjectList[TaskAnswer] = Field(default_factory=list)
