"""A chat's CRM extraction as records, and merging partial results on natural keys.

:class:`CrmResult` holds what one extraction found — contacts, deals, action items,
sentiment and summary — and how (``llm`` or ``regex``). Map-reduce partials are
reduced locally (spec ai.md §1.3) by :func:`merge_results`, with the store's natural
keys and merge rule, so the result holds each contact, deal and action once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers

from tgpilot.store.crm import (
    UNKNOWN,
    CrmAction,
    CrmContact,
    CrmDeal,
    Method,
    R,
    merge_records,
    record_key,
)

SENTIMENT_EMOJI = {"positive": "😊", "neutral": "😐", "negative": "😟"}


def normalise_phone(text: str) -> str:
    """A phone number in E.164 (``+12025550143``) when it parses as an international
    number, else the text as written (stripped)."""
    raw = text.strip()
    if not raw:
        return ""
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(parsed):
        return raw
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_username(text: str) -> str:
    """A Telegram username as ``@name`` (empty stays empty)."""
    name = text.strip().removeprefix("https://t.me/").removeprefix("t.me/").lstrip("@")
    return f"@{name}" if name else ""


@dataclass(frozen=True)
class CrmResult:
    """One chat's CRM extraction."""

    contacts: tuple[CrmContact, ...] = ()
    deals: tuple[CrmDeal, ...] = ()
    actions: tuple[CrmAction, ...] = ()
    sentiment: str = UNKNOWN
    summary: str = ""
    method: Method = "regex"

    @property
    def sentiment_label(self) -> str:
        """``😊 positive``, ``😐 neutral``, ``😟 negative`` or ``unknown``."""
        emoji = SENTIMENT_EMOJI.get(self.sentiment)
        return f"{emoji} {self.sentiment}" if emoji else self.sentiment


def merge_on_keys(chat_id: int, records: Sequence[R]) -> tuple[R, ...]:
    """``records`` with those of one natural key merged, in first-seen order; records
    without a key are dropped."""
    merged: dict[str, R] = {}
    for record in records:
        key = record_key(chat_id, record)
        if key is None:
            continue
        old = merged.get(key)
        merged[key] = record if old is None else merge_records(old, record)
    return tuple(merged.values())


def merge_results(chat_id: int, parts: Sequence[CrmResult], method: Method) -> CrmResult:
    """Partial results as one: records merged on keys, the most frequent known
    sentiment (the latest on a tie), the summaries joined."""
    known = [part.sentiment for part in parts if part.sentiment != UNKNOWN]
    counts = Counter(known)
    sentiment = max(reversed(known), key=counts.__getitem__) if known else UNKNOWN
    return CrmResult(
        contacts=merge_on_keys(chat_id, [c for part in parts for c in part.contacts]),
        deals=merge_on_keys(chat_id, [d for part in parts for d in part.deals]),
        actions=merge_on_keys(chat_id, [a for part in parts for a in part.actions]),
        sentiment=sentiment,
        summary=" ".join(part.summary for part in parts if part.summary),
        method=method,
    )
