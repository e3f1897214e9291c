"""The analysis report: the answer schema, its local defaults, and its JSON form
(spec ai.md §4.1 "Schema", "Outputs").

:class:`AnalysisReport` holds the schema fields (category, sentiment, topics,
discussions, key participants, insights, recommendations, summary, …) beside the
local :class:`~tgpilot.services.ai.analyze.metrics.ActivityMetrics`, which no model
answer ever replaces. :func:`local_report` fills the schema without a model: category
"Unknown", lexicon sentiment and topics, the five most active senders as key
participants at engagement 5.0, an activity level from messages per day, and a
factual summary; ``llm`` says ``provider: local``. An LLM answer is merged into it by
replacing fields (``dataclasses.replace``), using the defaults named here for what the
answer leaves out.

:func:`report_object` is the JSON document: ISO 8601 dates at every depth.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from tgpilot.core.output import iso_time
from tgpilot.models import Chat
from tgpilot.services.ai.analyze.metrics import ActivityMetrics
from tgpilot.services.ai.analyze.prompt_input import prompt_metadata

UNKNOWN = "Unknown"
"""Default category and topic name."""
UNKNOWN_DISCUSSION = "Unknown Discussion"
NEUTRAL = "neutral"
DEFAULT_ENGAGEMENT = 5.0
KEY_PARTICIPANTS = 5
SUMMARY_TOPICS = 3

HIGH_ACTIVITY_PER_DAY = 50.0
MEDIUM_ACTIVITY_PER_DAY = 10.0

LOCAL_PROVIDER = "local"
LOCAL_STATUS = "local"


@dataclass(frozen=True)
class Topic:
    """A topic of the schema: name, mentions, sentiment, ids of key messages."""

    name: str = UNKNOWN
    mentions: int = 0
    sentiment: str = NEUTRAL
    key_message_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Discussion:
    """A discussion of the schema (only a model finds these)."""

    title: str = UNKNOWN_DISCUSSION
    date: datetime | None = None
    participants: tuple[str, ...] = ()
    messages_count: int = 0
    summary: str = ""


@dataclass(frozen=True)
class Participant:
    """A key participant: name, messages, engagement 0–10."""

    name: str
    message_count: int = 0
    engagement_score: float = DEFAULT_ENGAGEMENT


@dataclass(frozen=True)
class LLMInfo:
    """Who produced the schema fields: ``local`` or a provider and model, the outcome
    (``local``, ``ok``, ``unparsed``, …), and the prompt's name and hash when one was sent."""

    provider: str = LOCAL_PROVIDER
    model: str | None = None
    status: str = LOCAL_STATUS
    prompt: str | None = None
    prompt_hash: str | None = None
    anonymized: bool = False
    """True when the model read pseudonyms and masked texts (``--anonymize``)."""


@dataclass(frozen=True)
class Scope:
    """What was read: the source, the window and the selection, and how many messages
    of the window were read to keep the analysed ones."""

    source: str
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 0
    min_length: int = 0
    include_bots: bool = False
    include_media: bool = False
    scanned: int = 0


@dataclass(frozen=True)
class AnalysisReport:
    """One chat's analysis: the schema fields plus the local metrics."""

    chat: Chat
    analyzed_at: datetime
    metrics: ActivityMetrics
    scope: Scope
    category: str = UNKNOWN
    subcategories: tuple[str, ...] = ()
    sentiment: str = NEUTRAL
    activity_level: str = "low"
    professionalism: str | None = None
    topics: tuple[Topic, ...] = ()
    discussions: tuple[Discussion, ...] = ()
    key_participants: tuple[Participant, ...] = ()
    insights: tuple[str, ...] = ()
    recommendations: tuple[str, ...] = ()
    summary: str = ""
    llm: LLMInfo = field(default_factory=LLMInfo)
    usage: Mapping[str, Any] | None = None
    degraded: bool = False


def activity_level(metrics: ActivityMetrics) -> str:
    """``high`` from 50 messages a day, ``medium`` from 10, else ``low``."""
    if metrics.messages_per_day >= HIGH_ACTIVITY_PER_DAY:
        return "high"
    if metrics.messages_per_day >= MEDIUM_ACTIVITY_PER_DAY:
        return "medium"
    return "low"


def local_key_participants(metrics: ActivityMetrics) -> tuple[Participant, ...]:
    """The five most active senders at engagement 5.0 (the default key participants)."""
    return tuple(
        Participant(s.name, s.messages, DEFAULT_ENGAGEMENT)
        for s in metrics.top_senders(KEY_PARTICIPANTS)
    )


def local_topics(metrics: ActivityMetrics) -> tuple[Topic, ...]:
    """The lexicon topics as schema topics."""
    return tuple(Topic(t.name, t.mentions, t.sentiment, t.message_ids) for t in metrics.topics)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def local_summary(metrics: ActivityMetrics, tz: tzinfo) -> str:
    """A factual summary of the metrics (what the report says without a model)."""
    if metrics.first_date is None or metrics.last_date is None:
        return "No messages were analysed."
    first = metrics.first_date.astimezone(tz).strftime("%d.%m.%Y")
    last = metrics.last_date.astimezone(tz).strftime("%d.%m.%Y")
    period = f"on {first}" if first == last else f"from {first} to {last}"
    parts = [
        f"{_plural(metrics.total_messages, 'message')} from "
        f"{_plural(metrics.unique_senders, 'participant')} {period} "
        f"({metrics.messages_per_day:.1f} per day)."
    ]
    if metrics.topics:
        names = ", ".join(t.name for t in metrics.topics[:SUMMARY_TOPICS])
        parts.append(f"Most mentioned topics: {names}.")
    sentiment = metrics.sentiment
    parts.append(f"Lexicon sentiment: {sentiment.label} ({sentiment.score:+.2f}).")
    return " ".join(parts)


def local_report(
    chat: Chat, metrics: ActivityMetrics, *, analyzed_at: datetime, scope: Scope, tz: tzinfo
) -> AnalysisReport:
    """The report of a local analysis (``--provider local``, or no model available)."""
    return AnalysisReport(
        chat=chat,
        analyzed_at=analyzed_at,
        metrics=metrics,
        scope=scope,
        sentiment=metrics.sentiment.label,
        activity_level=activity_level(metrics),
        topics=local_topics(metrics),
        key_participants=local_key_participants(metrics),
        summary=local_summary(metrics, tz),
    )


# --------------------------------------------------------------------------- JSON


def _iso(value: datetime | None, tz: tzinfo) -> str | None:
    return iso_time(value, tz) if value is not None else None


def metrics_object(metrics: ActivityMetrics, tz: tzinfo) -> dict[str, Any]:
    """``activity_metrics``: every local figure (dates ISO 8601)."""
    return {
        "total_messages": metrics.total_messages,
        "unique_senders": metrics.unique_senders,
        "messages_by_sender": [
            {
                "name": s.name,
                "sender_id": s.sender_id,
                "messages": s.messages,
                "characters": s.chars,
                "reactions": s.reactions,
            }
            for s in metrics.senders
        ],
        "total_reactions": metrics.total_reactions,
        "average_length": metrics.average_length,
        "media_messages": metrics.media_messages,
        "media_percent": metrics.media_percent,
        "first_message": _iso(metrics.first_date, tz),
        "last_message": _iso(metrics.last_date, tz),
        "days": metrics.days,
        "messages_per_day": metrics.messages_per_day,
        "timezone": metrics.timezone,
        "messages_by_hour": list(metrics.by_hour),
        "messages_by_day": [{"date": d.isoformat(), "messages": n} for d, n in metrics.by_day],
        "busiest_hour": (
            {"hour": metrics.busiest_hour, "messages": metrics.busiest_hour_messages}
            if metrics.busiest_hour is not None
            else None
        ),
        "topics": [
            {
                "name": t.name,
                "mentions": t.mentions,
                "sentiment": t.sentiment,
                "score": t.score,
                "key_message_ids": list(t.message_ids),
            }
            for t in metrics.topics
        ],
        "sentiment": {
            "score": metrics.sentiment.score,
            "label": metrics.sentiment.label,
            "positive_messages": metrics.sentiment.positive,
            "negative_messages": metrics.sentiment.negative,
            "neutral_messages": metrics.sentiment.neutral,
        },
        "profanity": {
            "messages": metrics.profane_messages,
            "percent": metrics.profanity_percent,
        },
        "most_reacted": [
            {
                "id": m.id,
                "date": iso_time(m.date, tz),
                "sender": m.sender,
                "text": m.text,
                "reactions": m.reactions,
                "media": m.media,
            }
            for m in metrics.top_reacted
        ],
    }


def report_object(report: AnalysisReport, tz: tzinfo) -> dict[str, Any]:
    """The JSON report: schema fields, chat, analysis time, metrics, scope and ``llm``."""
    metadata = prompt_metadata(report.metrics, tz)
    scope = report.scope
    return {
        "chat_name": report.chat.title,
        "chat_id": report.chat.id,
        "chat_type": report.chat.type.value,
        "analysis_time": iso_time(report.analyzed_at, tz),
        "date_range": metadata["date_range"],
        "category": report.category,
        "subcategories": list(report.subcategories),
        "sentiment": report.sentiment,
        "activity_level": report.activity_level,
        "professionalism": report.professionalism,
        "topics": [
            {
                "name": t.name,
                "mentions": t.mentions,
                "sentiment": t.sentiment,
                "key_message_ids": list(t.key_message_ids),
            }
            for t in report.topics
        ],
        "discussions": [
            {
                "title": d.title,
                "date": _iso(d.date, tz),
                "participants": list(d.participants),
                "messages_count": d.messages_count,
                "summary": d.summary,
            }
            for d in report.discussions
        ],
        "key_participants": [
            {
                "name": p.name,
                "message_count": p.message_count,
                "engagement_score": p.engagement_score,
            }
            for p in report.key_participants
        ],
        "insights": list(report.insights),
        "recommendations": list(report.recommendations),
        "summary": report.summary,
        "activity_metrics": metrics_object(report.metrics, tz),
        "selection": {
            "source": scope.source,
            "since": _iso(scope.since, tz),
            "until": _iso(scope.until, tz),
            "limit": scope.limit,
            "min_length": scope.min_length,
            "include_bots": scope.include_bots,
            "include_media": scope.include_media,
            "messages_read": scope.scanned,
        },
        "llm": {
            "provider": report.llm.provider,
            "model": report.llm.model,
            "status": report.llm.status,
            "prompt": report.llm.prompt,
            "prompt_hash": report.llm.prompt_hash,
            "anonymized": report.llm.anonymized,
        },
        "usage": dict(report.usage) if report.usage is not None else None,
        "degraded": report.degraded,
    }
