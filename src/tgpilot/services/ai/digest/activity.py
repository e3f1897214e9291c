"""The activity digest: what a period of a chat looked like, measured locally
(spec ai.md §4.2 "Activity digest", §5).

Everything here works without a model: the period; total messages including media,
the media count and share; active participants; average text length; the busiest hour
of day in the report zone (``--tz``; ties go to the earlier hour, an empty window has
none); the top users with their share; with ``--samples`` up to five longer texts; and,
for local mode, the messages that drew the most reactions plus replies and every link.
Messages of bots and of the service-notification account count in the totals, but
their senders are not participants.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from tgpilot.core.textmatch import find_urls
from tgpilot.models import Message
from tgpilot.services.ai.analyze.selection import display_name, is_bot_like, sender_key

HOURS = 24
DEFAULT_TOP_USERS = 5
SAMPLES = 5
SAMPLE_MIN_LENGTH = 50
"""A sample is a text of more than this many characters."""
SAMPLE_LENGTH = 100
HIGHLIGHTS = 5
ELLIPSIS = "…"


def one_line(text: str) -> str:
    """``text`` on one line: every run of whitespace becomes one space."""
    return " ".join(text.split())


def cut(text: str, length: int) -> str:
    """``text`` cut to at most ``length`` characters, ending in ``…`` when cut."""
    return text if len(text) <= length else text[: length - 1] + ELLIPSIS


def percent(part: int, whole: int) -> float:
    """``part`` as a percentage of ``whole``, one decimal; 0.0 when ``whole`` is 0."""
    return round(100 * part / whole, 1) if whole else 0.0


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 message``, ``2 messages`` (``many``: the plural when it is not ``word + s``)."""
    return f"{count} {word}" if count == 1 else f"{count} {many or word + 's'}"


@dataclass(frozen=True)
class UserShare:
    """One of the most active users: name, messages and share of all messages in %."""

    name: str
    sender_id: int | None
    messages: int
    percent: float


@dataclass(frozen=True)
class Sample:
    """A longer text of the period, cut to 100 characters."""

    date: datetime
    sender: str
    text: str


@dataclass(frozen=True)
class Highlight:
    """A message that drew reactions or replies (local mode)."""

    id: int
    date: datetime
    sender: str
    text: str
    reactions: int
    replies: int

    @property
    def weight(self) -> int:
        """Reactions plus replies."""
        return self.reactions + self.replies


@dataclass(frozen=True)
class ActivityDigest:
    """The local figures of one chat over one period."""

    since: datetime | None
    until: datetime
    timezone: str
    total: int = 0
    media: int = 0
    media_percent: float = 0.0
    participants: int = 0
    average_length: float = 0.0
    busiest_hour: int | None = None
    busiest_count: int = 0
    top_users: tuple[UserShare, ...] = ()
    samples: tuple[Sample, ...] = ()
    highlights: tuple[Highlight, ...] = ()
    links: tuple[str, ...] = ()

    @property
    def busiest_text(self) -> str:
        """``HH:00 (N messages)``, or ``—`` for an empty window."""
        if self.busiest_hour is None:
            return "—"
        return f"{self.busiest_hour:02d}:00 ({plural(self.busiest_count, 'message')})"

    @property
    def footer(self) -> str:
        """``N messages from M participants``."""
        return f"{plural(self.total, 'message')} from {plural(self.participants, 'participant')}"


def zone_name(tz: tzinfo) -> str:
    """The zone's name as reports show it (``Europe/Moscow``, ``UTC``)."""
    return str(getattr(tz, "key", None) or tz.tzname(None) or tz)


def compute_activity(
    messages: Sequence[Message],
    *,
    since: datetime | None,
    until: datetime,
    tz: tzinfo,
    top: int = DEFAULT_TOP_USERS,
) -> ActivityDigest:
    """The activity digest of ``messages`` (the period's, oldest first)."""
    zone = zone_name(tz)
    if not messages:
        return ActivityDigest(since=since, until=until, timezone=zone)
    hours = [0] * HOURS
    counts: Counter[object] = Counter()
    names: dict[object, tuple[str, int | None]] = {}
    lengths: list[int] = []
    media = 0
    for message in messages:
        hours[message.date.astimezone(tz).hour] += 1
        media += 1 if message.media_type else 0
        text = message.text.strip()
        if text:
            lengths.append(len(text))
        key = sender_key(message.sender)
        if key is not None and not is_bot_like(message.sender):
            counts[key] += 1
            sender = message.sender
            names.setdefault(key, (display_name(sender), sender.id if sender else None))
    total = len(messages)
    busiest = max(range(HOURS), key=lambda hour: (hours[hour], -hour))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], names[item[0]][0].casefold()))
    return ActivityDigest(
        since=since,
        until=until,
        timezone=zone,
        total=total,
        media=media,
        media_percent=percent(media, total),
        participants=len(counts),
        average_length=round(sum(lengths) / len(lengths), 1) if lengths else 0.0,
        busiest_hour=busiest,
        busiest_count=hours[busiest],
        top_users=tuple(
            UserShare(names[key][0], names[key][1], count, percent(count, total))
            for key, count in ranked[: max(0, top)]
        ),
        samples=pick_samples(messages),
        highlights=highlights(messages),
        links=links(messages),
    )


def pick_samples(messages: Sequence[Message], count: int = SAMPLES) -> tuple[Sample, ...]:
    """Up to ``count`` texts over 50 characters, spread evenly over the period."""
    long = [m for m in messages if len(m.text.strip()) > SAMPLE_MIN_LENGTH]
    if len(long) > count:
        step = (len(long) - 1) / (count - 1) if count > 1 else 0
        long = [long[round(index * step)] for index in range(count)]
    return tuple(
        Sample(m.date, display_name(m.sender), cut(one_line(m.text), SAMPLE_LENGTH)) for m in long
    )


def highlights(messages: Sequence[Message], count: int = HIGHLIGHTS) -> tuple[Highlight, ...]:
    """The ``count`` messages with the most reactions plus replies (replies counted from
    the period's own replies, or the message's reply counter where that is higher)."""
    replied: Counter[int] = Counter(m.reply_to_id for m in messages if m.reply_to_id is not None)
    found = [
        Highlight(
            id=m.id,
            date=m.date,
            sender=display_name(m.sender),
            text=cut(one_line(m.text), SAMPLE_LENGTH) if m.text.strip() else "[media]",
            reactions=m.reactions_total,
            replies=max(replied[m.id], m.replies or 0),
        )
        for m in messages
    ]
    found = [h for h in found if h.weight > 0]
    found.sort(key=lambda h: (-h.weight, -h.reactions, h.date, h.id))
    return tuple(found[:count])


def links(messages: Sequence[Message]) -> tuple[str, ...]:
    """Every link of the period (in the text or behind text links), each once, in order."""
    seen: dict[str, None] = {}
    for message in messages:
        for url in (*find_urls(message.text), *message.link_urls):
            seen.setdefault(url, None)
    return tuple(seen)
