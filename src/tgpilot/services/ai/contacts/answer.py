"""The JSON a model returns for one contact (prompt ``contacts``, spec ai.md §4.6),
read leniently: ``summary``, ``interests[]`` and ``next_step``; missing fields are
empty."""

from __future__ import annotations

from pydantic import Field

from tgpilot.services.ai.answers import LenientModel, LenientStr, StrList


class ContactAnswer(LenientModel):
    summary: LenientStr = ""
    interests: StrList = Field(default_factory=list)
    next_step: LenientStr = ""
