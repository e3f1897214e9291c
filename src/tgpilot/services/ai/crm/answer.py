"""The CRM JSON a model returns (prompt ``crm``, spec ai.md §4.3), read leniently.

``contacts{name, company, role, phone, email, telegram, interests[], temperature,
notes}``, ``deals{title, description, stage, estimated_value, currency, next_action,
deadline}``, ``action_items{task, assignee, due_date}``, ``sentiment`` and ``summary``.
Missing lists are empty, enums are case-folded and mapped through synonyms (else
``unknown``), ``"~5 000"`` is 5000 and dates read ISO or day-first.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from tgpilot.services.ai.answers import (
    LenientDate,
    LenientModel,
    LenientStr,
    ObjectList,
    StrList,
    lenient_enum,
    number,
)

STAGES = ("lead", "qualification", "proposal", "negotiation", "closed_won", "closed_lost")
STAGE_SYNONYMS = {
    "new": "lead",
    "qualified": "qualification",
    "offer": "proposal",
    "quote": "proposal",
    "negotiating": "negotiation",
    "won": "closed_won",
    "closed won": "closed_won",
    "lost": "closed_lost",
    "closed lost": "closed_lost",
}
TEMPERATURES = ("cold", "warm", "hot")
SENTIMENTS = ("positive", "neutral", "negative")
SENTIMENT_SYNONYMS = {"mixed": "neutral"}


def _amount(value: object) -> float | None:
    return number(value)


def _optional_text(value: object) -> str | None:
    if isinstance(value, str) and value.strip() and value.strip().casefold() != "null":
        return value.strip()
    return None


class ContactAnswer(LenientModel):
    name: LenientStr = ""
    company: LenientStr = ""
    role: LenientStr = ""
    phone: LenientStr = ""
    email: LenientStr = ""
    telegram: LenientStr = ""
    interests: StrList = Field(default_factory=list)
    temperature: Annotated[str, BeforeValidator(lenient_enum(TEMPERATURES))] = "unknown"
    notes: LenientStr = ""


class DealAnswer(LenientModel):
    title: LenientStr = ""
    description: LenientStr = ""
    stage: Annotated[str, BeforeValidator(lenient_enum(STAGES, STAGE_SYNONYMS))] = "unknown"
    estimated_value: Annotated[float | None, BeforeValidator(_amount)] = None
    currency: Annotated[str | None, BeforeValidator(_optional_text)] = None
    next_action: LenientStr = ""
    deadline: LenientDate = None


class ActionAnswer(LenientModel):
    task: LenientStr = ""
    assignee: LenientStr = ""
    due_date: LenientDate = None


class CrmAnswer(LenientModel):
    """The CRM JSON of one call (the whole chat, or one map part)."""

    contacts: ObjectList[ContactAnswer] = Field(default_factory=list)
    deals: ObjectList[DealAnswer] = Field(default_factory=list)
    action_items: ObjectList[ActionAnswer] = Field(default_factory=list)
    sentiment: Annotated[str, BeforeValidator(lenient_enum(SENTIMENTS, SENTIMENT_SYNONYMS))] = (
        "unknown"
    )
    summary: LenientStr = ""
