"""The local figures of a chat analysis (spec ai.md §4.1 "Local metrics").

Computed in one pass over the kept messages, in any order, always locally (an LLM
never changes them) by :class:`MetricsBuilder` — from messages
(:func:`compute_metrics`) or from whatever a source gives, such as the archive's lean
rows — holding counts, never the messages, so memory stays flat however many there
are:

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
dilute it, and 0.0 when none does. Topics, sentiment and profanity of a text come from
one :class:`~tgpilot.services.ai.analyze.scan.TextScanner` pass.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import chain, repeat
from typing import Any, TypeVar

from tgpilot.models import Message
from tgpilot.services.ai.analyze.lexicon import Lexicons, sentiment_label
from tgpilot.services.ai.analyze.scan import TextScanner
from tgpilot.services.ai.analyze.selection import display_name, sender_key, text_length

_T = TypeVar("_T")

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


NameFn = Callable[[Any], tuple[str, int | None]]
"""Gives a sender's display name and id from what :meth:`MetricsBuilder.add` was passed
as ``source`` (a message, a stored row…); called only for messages that name a sender
in the figures."""

KEEP_CANDIDATES = 64
"""Candidates for a topic's key messages, or for the most reacted ones, kept before
cutting back to the best few."""


@dataclass
class _SenderTally:
    name: str
    sender_id: int | None
    first: tuple[datetime, int]
    messages: int = 0
    chars: int = 0
    reactions: int = 0


@dataclass
class _TopicTally:
    mentions: int = 0
    scores: Counter[float] = field(default_factory=Counter)
    best: list[tuple[int, datetime, int]] = field(default_factory=list)


def _mean(scores: Counter[float]) -> float:
    """The mean of the counted scores, two decimals (0.0 when none)."""
    count = scores.total()
    if not count:
        return 0.0
    return round(math.fsum(chain.from_iterable(repeat(v, n) for v, n in scores.items())) / count, 2)


def _zone_name(tz: tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz.tzname(None) or tz)


def _best(candidates: list[_T], keep: int) -> list[_T]:
    """``candidates`` cut to their ``keep`` smallest, in order (in place)."""
    candidates.sort()
    del candidates[keep:]
    return candidates


class MetricsBuilder:
    """The local metrics, built in one pass over the kept messages, in any order.

    Memory stays bounded whatever the number of messages: counts per sender, hour and
    day, score counts, and a few candidates for the key and most reacted messages. A
    sender is named as in its oldest message. Text goes through a
    :class:`~tgpilot.services.ai.analyze.scan.TextScanner` once.
    """

    def __init__(self, *, tz: tzinfo, lexicons: Lexicons) -> None:
        self._tz = tz
        self._scan = TextScanner(lexicons).scan
        self._topic_order = {name: n for n, name in enumerate(lexicons.topics.names)}
        self._senders: dict[object, _SenderTally] = {}
        self._topics: dict[str, _TopicTally] = {}
        self._hours = [0] * HOURS
        self._days: Counter[date] = Counter()
        self._buckets: dict[float, tuple[int, date] | None] = {}
        self._marked: Counter[float] = Counter()
        self._reacted: list[tuple[int, datetime, int, int, str, bool, NameFn, Any]] = []
        self.total = 0
        self._chars = self._reactions = self._media = self._profane = 0
        self._positive = self._negative = 0
        self._first: datetime | None = None
        self._last: datetime | None = None

    def add(
        self,
        message_id: int,
        when: datetime,
        key: object,
        name_of: NameFn,
        source: Any,
        text: str,
        length: int,
        reactions: int,
        media: bool,
    ) -> None:
        """Count one kept message: its id, aware date, sender key (see
        :func:`~tgpilot.services.ai.analyze.selection.sender_key`; None: no sender),
        ``name_of(source)`` for the sender's name and id, its text, the text's length
        in characters, its reaction count and whether it carries media."""
        self.total += 1
        self._chars += length
        self._reactions += reactions
        if media:
            self._media += 1
        first, last = self._first, self._last
        if first is None or when < first:
            self._first = when
        if last is None or when > last:
            self._last = when
        # The hour and day of a UTC quarter-hour are looked up once (see _bucket).
        stamp = when.timestamp() // QUARTER
        bucket = self._buckets.get(stamp, _UNSEEN)
        if bucket is _UNSEEN:
            bucket = self._buckets[stamp] = _bucket(stamp, self._tz)
        if bucket is None:
            local = when.astimezone(self._tz)
            bucket = local.hour, local.date()
        self._hours[bucket[0]] += 1
        self._days[bucket[1]] += 1
        tally = self._senders.get(key)
        if tally is None:
            name, sender_id = name_of(source)
            tally = self._senders[key] = _SenderTally(name, sender_id, (when, message_id))
        elif when <= tally.first[0] and (when, message_id) < tally.first:
            tally.name, tally.sender_id = name_of(source)
            tally.first = (when, message_id)
        tally.messages += 1
        tally.chars += length
        tally.reactions += reactions
        if reactions > 0:
            reacted = self._reacted
            reacted.append((-reactions, when, message_id, self.total, text, media, name_of, source))
            if len(reacted) >= KEEP_CANDIDATES:
                _best(reacted, TOP_REACTED)
        if not length:
            return
        topics, score, profane = self._scan(text)
        if score:
            self._marked[score] += 1
            if score > 0:
                self._positive += 1
            else:
                self._negative += 1
        if profane:
            self._profane += 1
        for name in topics:
            topic = self._topics.get(name)
            if topic is None:
                topic = self._topics[name] = _TopicTally()
            topic.mentions += 1
            if score:
                topic.scores[score] += 1
            best = topic.best
            best.append((-reactions, when, message_id))
            if len(best) >= KEEP_CANDIDATES:
                _best(best, KEY_MESSAGES)

    def add_message(self, message: Message) -> None:
        """Count one kept :class:`Message`."""
        self.add(
            message.id,
            message.date,
            sender_key(message.sender),
            _message_name,
            message,
            message.text,
            text_length(message),
            message.reactions_total,
            bool(message.media_type),
        )

    def result(self) -> ActivityMetrics:
        """The metrics of every message added so far."""
        total = self.total
        first, last = self._first, self._last
        if not total or first is None or last is None:
            return ActivityMetrics(timezone=_zone_name(self._tz))
        hours = self._hours
        busiest = max(range(HOURS), key=lambda h: (hours[h], -h))
        senders = sorted(
            self._senders.values(),
            key=lambda s: (-s.messages, -s.chars, s.name.casefold(), s.first),
        )
        order = self._topic_order
        return ActivityMetrics(
            total_messages=total,
            unique_senders=sum(1 for key in self._senders if key is not None),
            senders=tuple(
                SenderCount(s.name, s.sender_id, s.messages, s.chars, s.reactions) for s in senders
            ),
            total_reactions=self._reactions,
            average_length=ratio(self._chars, total),
            media_messages=self._media,
            media_percent=ratio(100 * self._media, total),
            first_date=first,
            last_date=last,
            messages_per_day=ratio(total, (last - first).days + 1),
            by_hour=tuple(hours),
            by_day=_every_day(
                self._days, first.astimezone(self._tz).date(), last.astimezone(self._tz).date()
            ),
            busiest_hour=busiest,
            topics=tuple(
                TopicCount(
                    name,
                    tally.mentions,
                    _mean(tally.scores),
                    tuple(m for _, _, m in _best(tally.best, KEY_MESSAGES)),
                )
                for name, tally in sorted(
                    self._topics.items(), key=lambda item: (-item[1].mentions, order[item[0]])
                )
            ),
            sentiment=SentimentSummary(
                score=_mean(self._marked),
                positive=self._positive,
                negative=self._negative,
                neutral=total - self._positive - self._negative,
            ),
            profane_messages=self._profane,
            profanity_percent=ratio(100 * self._profane, total),
            top_reacted=tuple(
                ReactedMessage(
                    id=message_id,
                    date=when,
                    sender=name_of(source)[0],
                    text=preview(text),
                    reactions=-negated,
                    media=media,
                )
                for negated, when, message_id, _, text, media, name_of, source in _best(
                    self._reacted, TOP_REACTED
                )
            ),
            timezone=_zone_name(self._tz),
        )


QUARTER = 900.0
"""Seconds in a quarter of an hour: every offset in use is a multiple of it."""
_UNSEEN: tuple[int, date] = (-1, date.min)


def _bucket(stamp: float, tz: tzinfo) -> tuple[int, date] | None:
    """The local hour and day of the whole UTC quarter-hour ``stamp`` (its start in
    quarters since the epoch), or None when the quarter does not map to one.

    A zone whose offset is a whole number of quarter-hours all through the quarter puts
    all of it in one local hour and day; messages of other quarters are converted one
    by one.
    """
    start = datetime.fromtimestamp(stamp * QUARTER, UTC)
    end = start + timedelta(seconds=QUARTER - 1, microseconds=999_999)
    offset = start.astimezone(tz).utcoffset()
    if offset is None or offset != end.astimezone(tz).utcoffset():
        return None
    if offset.total_seconds() % QUARTER:
        return None
    local = start.astimezone(tz)
    return local.hour, local.date()


def _message_name(message: Message) -> tuple[str, int | None]:
    sender = message.sender
    return display_name(sender), sender.id if sender is not None else None


def compute_metrics(
    messages: Iterable[Message], *, tz: tzinfo, lexicons: Lexicons
) -> ActivityMetrics:
    """The local metrics of ``messages`` (the kept ones), buckets in ``tz``."""
    builder = MetricsBuilder(tz=tz, lexicons=lexicons)
    for message in messages:
        builder.add_message(message)
    return builder.result()


def _every_day(counts: Counter[date], first: date, last: date) -> tuple[tuple[date, int], ...]:
    """Every calendar day from ``first`` to ``last`` with its count (0 for quiet days)."""
    span = (last - first).days
    return tuple(
        (day, counts.get(day, 0)) for day in (first + timedelta(days=n) for n in range(span + 1))
    )
