"""The JSON a model returns for ``ideas`` (prompt ``ideas``, spec ai.md §4.5), read
leniently: ``items{id, kind idea|problem|none, summary}``, ``themes{name, item_ids[],
summary}`` and ``recommendations[]``. Missing lists are empty; a kind outside the
allowed set (and its synonyms) is ``unknown``, which leaves the candidate as found.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from tgpilot.services.ai.answers import (
    IntList,
    LenientInt,
    LenientModel,
    LenientStr,
    ObjectList,
    StrList,
    lenient_enum,
)

KINDS = ("idea", "problem", "none")
KIND_SYNONYMS = {
    "feature": "idea",
    "proposal": "idea",
    "suggestion": "idea",
    "bug": "problem",
    "issue": "problem",
    "error": "problem",
    "neither": "none",
    "no": "none",
    "false": "none",
}


class ItemAnswer(LenientModel):
    id: LenientInt = 0
    kind: Annotated[str, BeforeValidator(lenient_enum(KINDS, KIND_SYNONYMS))] = "unknown"
    summary: LenientStr = ""


class ThemeAnswer(LenientModel):
    name: LenientStr = ""
    item_ids: IntList = Field(default_factory=list)
    summary: LenientStr = ""


class IdeasAnswer(LenientModel):
    """The answer of one call (all candidates, or one map part)."""

    items: ObjectList[ItemAnswer] = Field(default_factory=list)
    themes: ObjectList[ThemeAnswer] = Field(default_factory=list)
    recommendations: StrList = Field(default_factory=list)
