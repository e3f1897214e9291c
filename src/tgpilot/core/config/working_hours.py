"""Working hours: ``"mon-fri 09:00-20:00"`` parsed into a schedule that answers "now?".

The auto-responder answers only inside its working hours (ai.md §4.8). A schedule is
one or more rules separated by ``,`` or ``;``, optionally ending with an IANA time zone
(else the zone given by the caller, ``output.timezone``)::

    mon-fri 09:00-20:00
    mon-fri 09:00-13:00, mon-fri 14:00-20:00; sat 10:00-14:00 Europe/Moscow
    sun-mon 22:00-02:00          # an overnight span belongs to the day it starts on
    mon-sun 00:00-24:00          # always

Day ranges wrap (``fri-mon``); ``24:00`` ends a day. Parsing lives in ``core`` so that
``config check`` names a malformed value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RULE = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$"
)
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class HoursRule:
    """Days of the week (0 = Monday) and a span in minutes after midnight."""

    days: frozenset[int]
    start: int
    end: int

    def covers(self, weekday: int, minute: int) -> bool:
        """True if (weekday, minute of day) falls inside this rule."""
        if self.start < self.end:
            return weekday in self.days and self.start <= minute < self.end
        # overnight: from start until midnight on the rule's days, then into the next day
        if weekday in self.days and minute >= self.start:
            return True
        return (weekday - 1) % 7 in self.days and minute < self.end


@dataclass(frozen=True)
class WorkingHours:
    """A parsed schedule; ``zone`` None means "the caller's zone"."""

    rules: tuple[HoursRule, ...]
    zone: str | None = None
    text: str = ""

    def contains(self, moment: datetime, default_zone: tzinfo) -> bool:
        """True if ``moment`` (aware) is inside working hours."""
        zone: tzinfo = ZoneInfo(self.zone) if self.zone else default_zone
        local = moment.astimezone(zone)
        minute = local.hour * 60 + local.minute
        return any(rule.covers(local.weekday(), minute) for rule in self.rules)


def _minutes(text: str, *, end: bool) -> int:
    hours, minutes = (int(part) for part in text.split(":"))
    if end and hours == 24 and minutes == 0:
        return MINUTES_PER_DAY
    time(hours, minutes)  # ValueError when out of range
    return hours * 60 + minutes


def _days(first: str, last: str | None) -> frozenset[int]:
    if first not in DAYS or (last is not None and last not in DAYS):
        given = f"{first}-{last}" if last else first
        raise ValueError(f"unknown day in {given!r} (use {', '.join(DAYS)})")
    start = DAYS.index(first)
    stop = DAYS.index(last) if last is not None else start
    return frozenset((start + step) % 7 for step in range((stop - start) % 7 + 1))


def parse_working_hours(text: str) -> WorkingHours:
    """The schedule ``text`` describes; ``ValueError`` with a readable reason if malformed."""
    body = text.strip()
    zone: str | None = None
    head, _, last = body.rpartition(" ")
    if "/" in last or last.upper() == "UTC":
        try:
            ZoneInfo(last)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {last!r}") from None
        zone, body = last, head
    rules: list[HoursRule] = []
    for part in re.split(r"[,;]", body.lower()):
        part = " ".join(part.split())
        if not part:
            continue
        match = _RULE.match(part)
        if match is None:
            raise ValueError(f"cannot read {part!r}: write rules like 'mon-fri 09:00-20:00'")
        try:
            start = _minutes(match["start"], end=False)
            stop = _minutes(match["end"], end=True)
        except ValueError:
            raise ValueError(f"bad time in {part!r} (HH:MM, 00:00 to 24:00)") from None
        if start == stop:
            raise ValueError(f"empty span in {part!r}")
        rules.append(HoursRule(_days(match["first"], match["last"]), start, stop))
    if not rules:
        raise ValueError("no rules: write e.g. 'mon-fri 09:00-20:00' (or null for always)")
    return WorkingHours(tuple(rules), zone, text)
