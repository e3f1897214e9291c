"""CRM extraction without a model (spec ai.md §5): contacts found by patterns.

Each sender whose messages hold a phone number, an e-mail address, a Telegram
``@username`` or a URL becomes one contact named after the sender, holding the first
of each (phones normalised to E.164 with ``phonenumbers``); further phones, e-mails
and usernames go to the notes, every URL to ``urls``. No deals or actions are found.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import phonenumbers

from tgpilot.models import Message
from tgpilot.services.ai.analyze.selection import display_name, sender_key
from tgpilot.services.ai.crm.result import CrmResult, merge_on_keys, normalise_username
from tgpilot.store.crm import CrmContact

EMAIL = re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
USERNAME = re.compile(r"(?<![\w@./])@([A-Za-z][A-Za-z0-9_]{3,31})\b")
URL = re.compile(r"\bhttps?://[^\s<>\"']+|\b(?:t\.me|www\.)[^\s<>\"']+", re.IGNORECASE)
URL_TRAILER = ".,;:!?)]}»"
ALSO = "also: "


@dataclass
class _Found:
    """What one sender's messages hold, in order of appearance."""

    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    usernames: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)


def _add(items: list[str], value: str) -> bool:
    if value and value.casefold() not in (item.casefold() for item in items):
        items.append(value)
        return True
    return False


def scan_text(text: str, found: _Found) -> bool:
    """Add the phones, e-mails, usernames and URLs of ``text`` to ``found``; True if any."""
    hit = False
    without_urls = text
    for match in URL.finditer(text):
        hit |= _add(found.urls, match.group(0).rstrip(URL_TRAILER))
        without_urls = without_urls.replace(match.group(0), " ")
    for email in EMAIL.findall(without_urls):
        hit |= _add(found.emails, email.lower())
    without_emails = EMAIL.sub(" ", without_urls)
    for number in phonenumbers.PhoneNumberMatcher(
        without_emails, None, leniency=phonenumbers.Leniency.POSSIBLE
    ):
        e164 = phonenumbers.format_number(number.number, phonenumbers.PhoneNumberFormat.E164)
        hit |= _add(found.phones, e164)
    for name in USERNAME.findall(without_emails):
        hit |= _add(found.usernames, normalise_username(name))
    return hit


def extract_locally(chat_id: int, messages: Sequence[Message]) -> CrmResult:
    """The contacts the messages' patterns give, one per sender (see the module)."""
    by_sender: dict[object, tuple[str, _Found]] = {}
    for message in messages:
        key = sender_key(message.sender)
        _name, found = by_sender.setdefault(key, (display_name(message.sender), _Found()))
        if scan_text(message.text, found):
            found.message_ids.append(message.id)
    contacts = [_contact(name, found) for name, found in by_sender.values() if found.message_ids]
    return CrmResult(contacts=merge_on_keys(chat_id, contacts), method="regex")


def _contact(name: str, found: _Found) -> CrmContact:
    extra = [*found.phones[1:], *found.emails[1:], *found.usernames[1:]]
    return CrmContact(
        name=name,
        phone=found.phones[0] if found.phones else "",
        email=found.emails[0] if found.emails else "",
        telegram=found.usernames[0] if found.usernames else "",
        notes=ALSO + ", ".join(extra) if extra else "",
        urls=tuple(found.urls),
        message_ids=tuple(sorted(found.message_ids)),
    )
