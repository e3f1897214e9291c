"""The analysis answer schema, read leniently, and how an answer is merged into the report
(spec ai.md §4.1 "Schema" and defaults, §1.4 validation).

:class:`AnalysisAnswer` is what ``analyze.md`` (and its map and reduce steps, and
``analyze_wishes``) ask for. Missing fields take the §4.1 defaults: "Unknown" category
and topic names, "neutral" sentiment, "Unknown Discussion" titles, 0 for numbers;
an enum value outside its set becomes ``unknown``. :func:`merge_answer` lays an answer
over the local report: activity figures always stay local (a participant's message
count too, when the name is a local sender), and missing key participants become the
local top five at engagement 5.0.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, tzinfo
from typing import Annotated

from pydantic import BeforeValidator, Field

from tgpilot.services.ai.analyze.report import (
    DEFAULT_ENGAGEMENT,
    NEUTRAL,
    UNKNOWN,
    UNKNOWN_DISCUSSION,
    AnalysisReport,
    Discussion,
    Participant,
    Topic,
    local_key_participants,
)
from tgpilot.services.ai.answers import (
    IntList,
    LenientDate,
    LenientInt,
    LenientModel,
    LenientStr,
    ObjectList,
    StrList,
    between,
    lenient_enum,
    text_or,
)

SENTIMENTS = ("positive", "negative", "neutral", "mixed")
SENTIMENT_SYNONYMS = {
    "pos": "positive",
    "good": "positive",
    "позитивный": "positive",
    "положительный": "positive",
    "neg": "negative",
    "bad": "negative",
    "негативный": "negative",
    "отрицательный": "negative",
    "нейтральный": "neutral",
    "смешанный": "mixed",
}
ACTIVITY_LEVELS = ("high", "medium", "low")
ACTIVITY_SYNONYMS = {"moderate": "medium", "average": "medium", "very high": "high"}
PROFESSIONALISM = ("professional", "casual", "mixed")
PROFESSIONALISM_SYNONYMS = {"formal": "professional", "informal": "casual"}
ENGAGEMENT_RANGE = (0.0, 10.0)

Sentiment = Annotated[str, BeforeValidator(lenient_enum(SENTIMENTS, SENTIMENT_SYNONYMS))]


class TopicAnswer(LenientModel):
    name: Annotated[str, BeforeValidator(text_or(UNKNOWN))] = UNKNOWN
    mentions: LenientInt = 0
    sentiment: Sentiment = NEUTRAL
    key_message_ids: IntList = Field(default_factory=list)


class DiscussionAnswer(LenientModel):
    title: Annotated[str, BeforeValidator(text_or(UNKNOWN_DISCUSSION))] = UNKNOWN_DISCUSSION
    date: LenientDate = None
    participants: StrList = Field(default_factory=list)
    messages_count: LenientInt = 0
    summary: LenientStr = ""


class ParticipantAnswer(LenientModel):
    name: LenientStr = ""
    message_count: LenientInt = 0
    engagement_score: Annotated[float, BeforeValidator(between(*ENGAGEMENT_RANGE))] = (
        DEFAULT_ENGAGEMENT
    )


class AnalysisAnswer(LenientModel):
    """The analysis JSON a model returns (also each map step's partial answer)."""

    category: Annotated[str, BeforeValidator(text_or(UNKNOWN))] = UNKNOWN
    subcategories: StrList = Field(default_factory=list)
    sentiment: Sentiment = NEUTRAL
    activity_level: Annotated[
        str, BeforeValidator(lenient_enum(ACTIVITY_LEVELS, ACTIVITY_SYNONYMS))
    ] = ""
    professionalism: Annotated[
        str, BeforeValidator(lenient_enum(PROFESSIONALISM, PROFESSIONALISM_SYNONYMS))
    ] = ""
    topics: ObjectList[TopicAnswer] = Field(default_factory=list)
    discussions: ObjectList[DiscussionAnswer] = Field(default_factory=list)
    key_participants: ObjectList[ParticipantAnswer] = Field(default_factory=list)
    insights: StrList = Field(default_factory=list)
    recommendations: StrList = Field(default_factory=list)
    summary: LenientStr = ""


def _day(value: date | None, tz: tzinfo) -> datetime | None:
    return datetime.combine(value, time(0), tzinfo=tz) if value is not None else None


def merge_answer(report: AnalysisReport, answer: AnalysisAnswer, tz: tzinfo) -> AnalysisReport:
    """``report`` with the answer's schema fields; local figures stay (module docstring).

    ``activity_level`` stays the local one (it is an activity figure); a blank summary
    keeps the local one.
    """
    local_counts = {sender.name: sender.messages for sender in report.metrics.senders}
    participants = tuple(
        Participant(p.name, local_counts.get(p.name, p.message_count), p.engagement_score)
        for p in answer.key_participants
        if p.name
    )
    return replace(
        report,
        category=answer.category,
        subcategories=tuple(answer.subcategories),
        sentiment=answer.sentiment,
        professionalism=answer.professionalism or None,
        topics=tuple(
            Topic(t.name, t.mentions, t.sentiment, tuple(t.key_message_ids)) for t in answer.topics
        ),
        discussions=tuple(
            Discussion(
                d.title, _day(d.date, tz), tuple(d.participants), d.messages_count, d.summary
            )
            for d in answer.discussions
        ),
        key_participants=participants or local_key_participants(report.metrics),
        insights=tuple(answer.insights),
        recommendations=tuple(answer.recommendations),
        summary=answer.summary or report.summary,
    )
