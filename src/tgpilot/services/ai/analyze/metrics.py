"""The local figures of a chat analysis (spec ai.md §4.1 "Local metrics").

Computed in one pass over the kept messages, always locally (an LLM never changes
them):

- total, unique senders (messages without a sender are not a sender), messages per
  sender, reactions (emoji + custom + paid), average text length in characters, media
  share in % (0.0 when empty), first and last date;
- messages per day = total ÷ (whole days from first to last + 1);
- counts per hour of day and per calendar day in the report zone (``--tz``), and the
  busiest hour (the earliest of equals);
- lexicon topics (messages mentioning each), lexicon sentiment, profanity rate;
- the most reacted messages.

A text's sentiment is its lexicon score (:mod:`.lexicon`); the chat's (and a topic's)
is the mean score of its messages that carry any marker, so neutral chatter does not
dilute it, and 0.0 when none does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from tgpilot.core.textmatch import prepare
from tgpilot.models import Message
from tgpilot.services.ai.analyze.lexicon import Lexicons, sentiment_label
from tgpilot.services.ai.analyze.selection import display_name, sender_key, text_length

HOURS = 24
TOP_REACTED = 5
KEY_MESSAGES = 5
PREVIEW_LENGTH = 140


def ratio(part: float, whole: float, digits: int = 1) -> float:
    """``part / whole`` rounded to ``digits``; 0.0 when ``whole`` is 0."""
    return round(part / whole, digits) if whole else 0.0


def preview(text: str, length: int = PREVIEW_LENGTH) -> str:
    """One line of at most ``length`` characters, ``…`` when cut."""
    line = " ".join(text.split())
    return line if len(line) <= length else line[: length - 1] + "…"


@dataclass(frozen=True)
class SenderCount:
    """One sender's share of the kept messages."""

    name: str
    sender_id: int | None
    messages: int
    chars: int
    reactions: int


@dataclass(frozen=True)
class TopicCount:
    """A lexicon topic: messages mentioning it, their mean sentiment, the key ones."""

    name: str
    mentions: int
    score: float
    message_ids: tuple[int, ...]

    @property
    def sentiment(self) -> str:
        return sentiment_label(self.score)


@dataclass(frozen=True)
class SentimentSummary:
    """The chat's lexicon sentiment and how many messages leaned each way."""

    score: float = 0.0
    positive: int = 0
    negative: int = 0
    neutral: int = 0

    @property
    def label(self) -> str:
        return sentiment_label(self.score)


@dataclass(frozen=True)
class ReactedMessage:
    """One of the most reacted messages."""

    id: int
    date: datetime
    sender: str
    text: str
    reactions: int
    media: bool


@dataclass(frozen=True)
class ActivityMetrics:
    """Everything local analysis measures about the kept messages of one chat."""

    total_messages: int = 0
    unique_senders: int = 0
    senders: tuple[SenderCount, ...] = ()
    total_reactions: int = 0
    average_length: float = 0.0
    media_messages: int = 0
    media_percent: float = 0.0
    first_date: datetime | None = None
    last_date: datetime | None = None
    messages_per_day: float = 0.0
    by_hour: tuple[int, ...] = (0,) * HOURS
    by_day: tuple[tuple[date, int], ...] = ()
    busiest_hour: int | None = None
    topics: tuple[TopicCount, ...] = ()
    sentiment: SentimentSummary = field(default_factory=SentimentSummary)
    profane_messages: int = 0
    profanity_percent: float = 0.0
    top_reacted: tuple[ReactedMessage, ...] = ()
    timezone: str = "UTC"

    @property
    def days(self) -> int:
        """Whole days from the first message to the last, plus one (0 when empty)."""
        if self.first_date is None or self.last_date is None:
            return 0
        return (self.last_date - self.first_date).days + 1

    @property
    def busiest_hour_messages(self) -> int:
        """Messages in the busiest hour (0 when empty)."""
        return self.by_hour[self.busiest_hour] if self.busiest_hour is not None else 0

    def top_senders(self, n: int) -> tuple[SenderCount, ...]:
        """The ``n`` most active senders."""
        return self.senders[:n]


@dataclass
class _SenderTally:
    name: str
    sender_id: int | None
    messages: int = 0
    chars: int = 0
    reactions: int = 0


@dataclass
class _TopicTally:
    mentions: int = 0
    scores: list[float] = field(default_factory=list)
    messages: list[tuple[int, datetime, int]] = field(default_factory=list)


def _mean(scores: Sequence[float]) -> float:
    return round(sum(scores) / len(scores), 2) if scores else 0.0


def _zone_name(tz: tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz.tzname(None) or tz)


def compute_metrics(
    messages: Sequence[Message], *, tz: tzinfo, lexicons: Lexicons
) -> ActivityMetrics:
    """The local metrics of ``messages`` (the kept ones), buckets in ``tz``."""
    if not messages:
        return ActivityMetrics(timezone=_zone_name(tz))
    senders: dict[object, _SenderTally] = {}
    topics: dict[str, _TopicTally] = {name: _TopicTally() for name in lexicons.topics.names}
    hours = [0] * HOURS
    days: Counter[date] = Counter()
    chars = reactions = media = profane = 0
    marked_scores: list[float] = []
    positive = negative = 0
    for message in messages:
        length = text_length(message)
        count = message.reactions_total
        chars += length
        reactions += count
        media += 1 if message.media_type else 0
        local = message.date.astimezone(tz)
        hours[local.hour] += 1
        days[local.date()] += 1
        key = sender_key(message.sender)
        tally = senders.get(key)
        if tally is None:
            sender_id = message.sender.id if message.sender is not None else None
            tally = senders[key] = _SenderTally(display_name(message.sender), sender_id)
        tally.messages += 1
        tally.chars += length
        tally.reactions += count
        if not message.text.strip():
            continue
        folded = prepare(message.text)
        score = lexicons.sentiment.score(folded)
        if score:
            marked_scores.append(score)
        positive += 1 if score > 0 else 0
        negative += 1 if score < 0 else 0
        if lexicons.profanity.contains(folded):
            profane += 1
        for name in lexicons.topics.topics_of(folded):
            topic = topics[name]
            topic.mentions += 1
            if score:
                topic.scores.append(score)
            topic.messages.append((count, message.date, message.id))
    total = len(messages)
    first = min(m.date for m in messages)
    last = max(m.date for m in messages)
    whole_days = (last - first).days
    busiest = max(range(HOURS), key=lambda h: (hours[h], -h))
    order = list(lexicons.topics.names)
    return ActivityMetrics(
        total_messages=total,
        unique_senders=sum(1 for key in senders if key is not None),
        senders=tuple(
            SenderCount(s.name, s.sender_id, s.messages, s.chars, s.reactions)
            for s in sorted(
                senders.values(), key=lambda s: (-s.messages, -s.chars, s.name.casefold())
            )
        ),
        total_reactions=reactions,
        average_length=ratio(chars, total),
        media_messages=media,
        media_percent=ratio(100 * media, total),
        first_date=first,
        last_date=last,
        messages_per_day=ratio(total, whole_days + 1),
        by_hour=tuple(hours),
        by_day=_every_day(days, first.astimezone(tz).date(), last.astimezone(tz).date()),
        busiest_hour=busiest,
        topics=tuple(
            TopicCount(
                name,
                tally.mentions,
                _mean(tally.scores),
                tuple(
                    message_id
                    for _, _, message_id in sorted(
                        tally.messages, key=lambda t: (-t[0], t[1], t[2])
                    )[:KEY_MESSAGES]
                ),
            )
            for name, tally in sorted(
                topics.items(), key=lambda item: (-item[1].mentions, order.index(item[0]))
            )
            if tally.mentions
        ),
        sentiment=SentimentSummary(
            score=_mean(marked_scores),
            positive=positive,
            negative=negative,
            neutral=total - positive - negative,
        ),
        profane_messages=profane,
        profanity_percent=ratio(100 * profane, total),
        top_reacted=_top_reacted(messages),
        timezone=_zone_name(tz),
    )


def _every_day(counts: Counter[date], first: date, last: date) -> tuple[tuple[date, int], ...]:
    """Every calendar day from ``first`` to ``last`` with its count (0 for quiet days)."""
    span = (last - first).days
    return tuple(
        (day, counts.get(day, 0)) for day in (first + timedelta(days=n) for n in range(span + 1))
    )


def _top_reacted(messages: Sequence[Message]) -> tuple[ReactedMessage, ...]:
    reacted = [m for m in messages if m.reactions_total > 0]
    reacted.sort(key=lambda m: (-m.reactions_total, m.date, m.id))
    return tuple(
        ReactedMessage(
            id=m.id,
            date=m.date,
            sender=display_name(m.sender),
            text=preview(m.text),
            reactions=m.reactions_total,
            media=bool(m.media_type),
        )
        for m in reacted[:TOP_REACTED]
    )
