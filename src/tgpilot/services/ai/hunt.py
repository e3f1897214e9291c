"""Lead hunting, ``hunt --chats …`` (spec ai.md §4.4): who talks about what you look for.

**Scan.** Up to ``limit`` messages per chat within the window, counting only texts by
people: empty texts, the account's own messages, bots, the service-notification
account and chats posting as themselves are skipped. A message counts for its sender
when it matches a keyword, a required term or a regex (all through
:class:`~tgpilot.core.textmatch.TermMatcher`) and holds no exclude term; with no
keywords and no regexes every active person is collected.

**Merge.** Per user across chats: counts summed, terms united with their hits, the
latest time kept, chats listed, and each counted message's first 200 characters kept
as a sample (newest first).

**Score**, after the merge: ``10·ln(messages) + 5·distinct keyword terms + recency +
15·required terms found`` (regexes count as keyword terms), recency being 20 for a
user active within a day and 10 within a week. A user needs ``min_messages`` messages
and every required term. ``--bio-keywords`` adds 5 per distinct term found in the
"about" text of a qualifying user (fetched paced and cached by the caller). Users are
sorted by score, then recency; terms by hits, then alphabetically.

**CSV** ``user_id,username,full_name,message_count,score,last_active,keywords,chats``
(score with one decimal, time ``YYYY-MM-DD HH:MM`` in the report zone, keywords and
chats joined by "; "), written by the ``csv`` module in UTF-8.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from tgpilot.core.clock import Clock
from tgpilot.core.errors import UsageError
from tgpilot.core.output import atomic_write, human_time
from tgpilot.core.textmatch import FoldedText, TermMatcher, prepare
from tgpilot.models import Chat, Message
from tgpilot.services.ai.analyze.selection import display_name, is_bot_like
from tgpilot.services.export.run import MessageSource
from tgpilot.services.sources import MessageWindow, ProgressFn, read_window

SAMPLE_LENGTH = 200
MESSAGE_WEIGHT = 10.0
KEYWORD_POINTS = 5.0
REQUIRED_POINTS = 15.0
BIO_POINTS = 5.0
RECENT_DAY_POINTS = 20.0
RECENT_WEEK_POINTS = 10.0
CSV_HEADER = (
    "user_id",
    "username",
    "full_name",
    "message_count",
    "score",
    "last_active",
    "keywords",
    "chats",
)
JOIN = "; "
REGEX_PREFIX = "re:"
ABOUT_CACHE_TTL = timedelta(days=7)
BIO_PACE_S = 1.0
"""Seconds between two profile requests."""


@dataclass(frozen=True)
class HuntQuery:
    """What to look for: ``-k``, ``-r``, ``-e``, ``--regex``, ``--bio-keywords`` and
    ``--min-messages``. Building it compiles every term (an invalid regex is a
    UsageError, exit 2)."""

    keywords: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    regexes: tuple[str, ...] = ()
    bio_keywords: tuple[str, ...] = ()
    min_messages: int = 1

    def __post_init__(self) -> None:
        if self.min_messages < 1:
            raise UsageError("--min-messages must be 1 or more")
        TermMatcher(self.keyword_terms + self.required + self.exclude + self.bio_keywords)

    @property
    def keyword_terms(self) -> tuple[str, ...]:
        """Keywords and regexes (``re:`` added where missing): what earns keyword points."""
        regexes = tuple(r if r.startswith(REGEX_PREFIX) else REGEX_PREFIX + r for r in self.regexes)
        return self.keywords + regexes

    @property
    def collects_everyone(self) -> bool:
        """True when neither keywords nor regexes are given."""
        return not self.keyword_terms


def is_person_text(message: Message) -> bool:
    """True for a non-empty text by a person other than the account itself."""
    sender = message.sender
    return (
        bool(message.text.strip())
        and not message.is_service
        and not message.is_outgoing
        and sender is not None
        and sender.id is not None
        and sender.id > 0
        and not is_bot_like(sender)
    )


@dataclass(frozen=True)
class Sample:
    """One counted message: where, when, and its first 200 characters."""

    chat: str
    date: datetime
    text: str


@dataclass
class _Tally:
    user_id: int
    username: str | None
    full_name: str
    messages: int = 0
    keyword_hits: Counter[str] = field(default_factory=Counter)
    required: set[str] = field(default_factory=set)
    last_active: datetime | None = None
    chats: dict[int, str] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)


@dataclass(frozen=True)
class HuntUser:
    """A qualifying user, scored."""

    user_id: int
    username: str | None
    full_name: str
    message_count: int
    score: float
    last_active: datetime
    terms: tuple[str, ...]
    """Every term found (keywords, regexes, required), by hits then alphabetically."""
    keyword_terms: int
    required_found: int
    chats: tuple[str, ...]
    samples: tuple[Sample, ...]
    bio_terms: tuple[str, ...] = ()

    def with_bio(self, terms: Sequence[str]) -> HuntUser:
        """This user with the bio terms found (5 points each)."""
        found = tuple(dict.fromkeys(terms))
        base = self.score - BIO_POINTS * len(self.bio_terms)
        return replace(self, bio_terms=found, score=base + BIO_POINTS * len(found))


def recency_points(last_active: datetime, now: datetime) -> float:
    """20 when active within a day, 10 within a week, else 0."""
    age = now - last_active
    if age < timedelta(days=1):
        return RECENT_DAY_POINTS
    if age < timedelta(days=7):
        return RECENT_WEEK_POINTS
    return 0.0


def score(messages: int, keyword_terms: int, required: int, recency: float) -> float:
    """``10·ln(messages) + 5·keyword terms + recency + 15·required terms``."""
    return (
        MESSAGE_WEIGHT * math.log(messages)
        + KEYWORD_POINTS * keyword_terms
        + recency
        + REQUIRED_POINTS * required
    )


class HuntScan:
    """The merged tallies of every chat scanned so far (see the module docstring)."""

    def __init__(self, query: HuntQuery) -> None:
        self.query = query
        self._keywords = TermMatcher(query.keyword_terms)
        self._required = TermMatcher(query.required)
        self._exclude = TermMatcher(query.exclude)
        self._tallies: dict[int, _Tally] = {}

    def add(self, chat: Chat, messages: Iterable[Message]) -> int:
        """Count the messages of ``chat`` (any order); returns how many counted."""
        counted = 0
        for message in messages:
            if is_person_text(message) and self._count(chat, message):
                counted += 1
        return counted

    def _count(self, chat: Chat, message: Message) -> bool:
        text: FoldedText = prepare(message.text)
        if self._exclude.contains(text):
            return False
        hits = Counter(match.term for match in self._keywords.find(text))
        required = {match.term for match in self._required.find(text)}
        if not (hits or required or self.query.collects_everyone):
            return False
        sender = message.sender
        assert sender is not None and sender.id is not None
        tally = self._tallies.get(sender.id)
        if tally is None:
            tally = self._tallies[sender.id] = _Tally(
                sender.id, sender.username, display_name(sender)
            )
        tally.messages += 1
        tally.keyword_hits.update(hits)
        tally.required |= required
        if tally.last_active is None or message.date > tally.last_active:
            tally.last_active = message.date
        tally.chats.setdefault(chat.id, chat.title)
        tally.samples.append(Sample(chat.title, message.date, message.text[:SAMPLE_LENGTH]))
        return True

    def users(self, now: datetime) -> list[HuntUser]:
        """The qualifying users, scored and sorted."""
        wanted = set(self._required_raw())
        found: list[HuntUser] = []
        for tally in self._tallies.values():
            if tally.messages < self.query.min_messages or not wanted <= tally.required:
                continue
            assert tally.last_active is not None
            hits = Counter(tally.keyword_hits)
            for term in tally.required:
                hits.setdefault(term, 0)
            terms = sorted(hits, key=lambda term: (-hits[term], term.casefold()))
            found.append(
                HuntUser(
                    user_id=tally.user_id,
                    username=tally.username,
                    full_name=tally.full_name,
                    message_count=tally.messages,
                    score=score(
                        tally.messages,
                        len(tally.keyword_hits),
                        len(tally.required),
                        recency_points(tally.last_active, now),
                    ),
                    last_active=tally.last_active,
                    terms=tuple(terms),
                    keyword_terms=len(tally.keyword_hits),
                    required_found=len(tally.required),
                    chats=tuple(tally.chats.values()),
                    samples=tuple(sorted(tally.samples, key=lambda s: s.date, reverse=True)),
                )
            )
        return sort_users(found)

    def _required_raw(self) -> tuple[str, ...]:
        return tuple(term.raw for term in self._required.terms)


def sort_users(users: Iterable[HuntUser]) -> list[HuntUser]:
    """By score, then the most recently active first, then user id."""
    return sorted(users, key=lambda u: (-u.score, -u.last_active.timestamp(), u.user_id))


async def scan_chat(
    scan: HuntScan,
    source: MessageSource,
    chat: Chat,
    window: MessageWindow,
    *,
    progress: ProgressFn | None = None,
) -> int:
    """Read up to ``window.limit`` person texts of ``chat`` and count them; returns how
    many were read."""
    read = await read_window(source, chat, window, is_person_text, progress=progress)
    scan.add(chat, read.messages)
    return len(read.messages)


# --------------------------------------------------------------------------- bios

AboutFn = Callable[[int], Awaitable[str | None]]
"""Fetches a user's "about" text (the live gateway's ``user_about``)."""


class AboutCache:
    """ "About" texts already fetched, in a JSON file, kept for a week."""

    def __init__(self, path: Path, clock: Clock, ttl: timedelta = ABOUT_CACHE_TTL) -> None:
        self.path = path
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[str, dict[str, str | None]] = {}
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}
        if isinstance(loaded, dict):
            self._entries = {k: v for k, v in loaded.items() if isinstance(v, dict)}

    def get(self, user_id: int) -> tuple[bool, str | None]:
        """``(True, about)`` when a fresh entry is cached, else ``(False, None)``."""
        entry = self._entries.get(str(user_id))
        if entry is None:
            return False, None
        try:
            fetched = datetime.fromisoformat(str(entry.get("fetched")))
        except ValueError:
            return False, None
        if self._clock.now() - fetched > self._ttl:
            return False, None
        return True, entry.get("about")

    def put(self, user_id: int, about: str | None) -> None:
        self._entries[str(user_id)] = {"about": about, "fetched": self._clock.now().isoformat()}

    def save(self) -> None:
        with atomic_write(self.path, mode=0o600) as handle:
            handle.write(json.dumps(self._entries, ensure_ascii=False, indent=1))


async def add_bio_points(
    users: Sequence[HuntUser],
    bio_keywords: Sequence[str],
    fetch: AboutFn,
    cache: AboutCache,
    clock: Clock,
    *,
    pace_s: float = BIO_PACE_S,
) -> list[HuntUser]:
    """``users`` with 5 points per distinct bio keyword in their "about" text (fetched
    one by one, ``pace_s`` apart, unless cached), sorted again."""
    matcher = TermMatcher(bio_keywords)
    scored: list[HuntUser] = []
    fetched = 0
    for user in users:
        known, about = cache.get(user.user_id)
        if not known:
            if fetched:
                await clock.sleep(pace_s)
            about = await fetch(user.user_id)
            fetched += 1
            cache.put(user.user_id, about)
        terms = [match.term for match in matcher.find(about)] if about else []
        scored.append(user.with_bio(terms))
    if fetched:
        cache.save()
    return sort_users(scored)


# --------------------------------------------------------------------------- output


def csv_row(user: HuntUser, tz: tzinfo) -> list[str]:
    """One CSV row (see :data:`CSV_HEADER`)."""
    return [
        str(user.user_id),
        user.username or "",
        user.full_name,
        str(user.message_count),
        f"{user.score:.1f}",
        human_time(user.last_active, tz),
        JOIN.join((*user.terms, *(t for t in user.bio_terms if t not in user.terms))),
        JOIN.join(user.chats),
    ]


def write_csv(users: Sequence[HuntUser], path: Path, tz: tzinfo) -> Path:
    """Write the users as CSV (RFC 4180, UTF-8) at ``path``."""
    with atomic_write(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        writer.writerows(csv_row(user, tz) for user in users)
    return path
