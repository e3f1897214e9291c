"""``--anonymize``: pseudonyms in what a model reads, real names in what the user reads
(spec ai.md §3 "Privacy and files").

An :class:`Anonymizer` belongs to one run over one set of messages:

- every sender gets a stable pseudonym ``P1``, ``P2``, … in order of first appearance
  (:meth:`Anonymizer.learn` — done by :meth:`Anonymizer.messages` — registers them all
  before any text is masked, so a name mentioned before its owner first writes is
  replaced too);
- in texts (:meth:`Anonymizer.text`), e-mail addresses become ``[email-N]``, phone
  numbers ``[phone-N]`` (the same address or number, however written, the same N), and
  known senders' names and usernames their pseudonym: the full name and ``username``
  as ``Pn``, ``@username`` as ``@Pn``, and each part of a full name (three letters or
  more, capitalised, and belonging to one sender only) as ``Pn``;
- :meth:`Anonymizer.messages` gives the messages a model may read: senders renamed to
  their pseudonyms (no username), texts masked;
- :meth:`Anonymizer.reveal` and :meth:`Anonymizer.reveal_model` turn the model's answer
  back: ``Pn`` → the display name, ``@Pn`` → ``@username`` (else the name), and the
  ``[email-N]``/``[phone-N]`` tokens → the original address and number, so reports and
  stored records show real values while the model never saw them.

Matching is on whole words (Unicode letters and digits), case-insensitive except for
single name parts, which must be written as in the name (or in capitals) to avoid
ordinary words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import phonenumbers
from pydantic import BaseModel

from tgpilot.models import Message, Sender
from tgpilot.services.ai.analyze.selection import display_name, sender_key
from tgpilot.services.ai.crm.local import EMAIL

M = TypeVar("M", bound=BaseModel)

PSEUDONYM_PREFIX = "P"
EMAIL_TOKEN = "[email-{n}]"
PHONE_TOKEN = "[phone-{n}]"
MIN_NAME_PART = 3
MIN_BARE_USERNAME = 4
MIN_PHONE_DIGITS = 10
MAX_PHONE_DIGITS = 15

_PHONE_LIKE = re.compile(r"(?<![\w+])\+?\(?\d(?:[\s()\-]{0,2}\d){6,18}(?![\w])")
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{4}")
_REVEAL = re.compile(r"(?<![\w@])(@?)" + PSEUDONYM_PREFIX + r"(\d+)(?!\w)|\[(email|phone)-(\d+)\]")


@dataclass(frozen=True)
class Person:
    """One sender as the model knows them, and as the report shows them."""

    pseudonym: str
    name: str
    """The display name (full name, else ``@username``, else ``User <id>``)."""
    username: str | None


def _whole(alternatives: Iterable[str], flags: int = 0) -> re.Pattern[str] | None:
    """A regex matching any of ``alternatives`` as a whole word, longest first."""
    unique = sorted(set(alternatives), key=lambda item: (-len(item), item))
    if not unique:
        return None
    body = "|".join(re.escape(item) for item in unique)
    return re.compile(rf"(?<![\w@])(?:{body})(?!\w)", flags)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


class Anonymizer:
    """Pseudonyms and masks for one run (see the module docstring)."""

    def __init__(self) -> None:
        self._people: dict[object, Person] = {}
        self._by_pseudonym: dict[str, Person] = {}
        self._masked: dict[str, dict[str, str]] = {"email": {}, "phone": {}}
        """Kind → normalised value → token."""
        self._originals: dict[str, str] = {}
        """Token → the value as first written."""
        self._patterns: tuple[re.Pattern[str] | None, ...] | None = None
        self._lookup: dict[str, str] = {}

    # ----------------------------------------------------------------- people

    @property
    def people(self) -> tuple[Person, ...]:
        """Every sender seen, in order of first appearance."""
        return tuple(self._people.values())

    def learn(self, messages: Iterable[Message]) -> None:
        """Give each new sender of ``messages`` the next pseudonym."""
        for message in messages:
            self.person(message.sender)

    def person(self, sender: Sender | None) -> Person | None:
        """``sender``'s pseudonym (a new one if unseen); None for no sender."""
        if sender is None:
            return None
        key = sender_key(sender)
        known = self._people.get(key)
        if known is not None:
            return known
        person = Person(
            f"{PSEUDONYM_PREFIX}{len(self._people) + 1}",
            display_name(sender),
            sender.username or None,
        )
        self._people[key] = person
        self._by_pseudonym[person.pseudonym] = person
        self._patterns = None
        return person

    def _name_patterns(self) -> tuple[re.Pattern[str] | None, ...]:
        """Whole names and usernames (case-insensitive), then name parts (as written)."""
        if self._patterns is not None:
            return self._patterns
        lookup: dict[str, str] = {}
        whole: list[str] = []
        parts: dict[str, set[str]] = {}
        for person in self._people.values():
            names = [person.name]
            if person.username:
                names.append(f"@{person.username}")
                if len(person.username) >= MIN_BARE_USERNAME:
                    names.append(person.username)
            for name in names:
                pseudonym = ("@" if name.startswith("@") else "") + person.pseudonym
                lookup.setdefault(name.casefold(), pseudonym)
                whole.append(name)
            if not person.name.startswith(("@", "User ")):
                for part in re.findall(r"\w+", person.name):
                    if len(part) >= MIN_NAME_PART and part[0].isupper():
                        parts.setdefault(part, set()).add(person.pseudonym)
        single = {part: owners.pop() for part, owners in parts.items() if len(owners) == 1}
        for part, pseudonym in single.items():
            lookup.setdefault(f"part:{part.casefold()}", pseudonym)
        self._lookup = lookup
        spelled = [p for p in single if p.casefold() not in lookup]
        self._patterns = (
            _whole(whole, re.IGNORECASE),
            _whole([*spelled, *(p.upper() for p in spelled)]),
        )
        return self._patterns

    # ----------------------------------------------------------------- masking

    def _token(self, kind: str, key: str, original: str) -> str:
        tokens = self._masked[kind]
        token = tokens.get(key)
        if token is None:
            template = EMAIL_TOKEN if kind == "email" else PHONE_TOKEN
            token = template.format(n=len(tokens) + 1)
            tokens[key] = token
            self._originals[token] = original
        return token

    def _mask_emails(self, text: str) -> str:
        return EMAIL.sub(lambda m: self._token("email", m.group(0).casefold(), m.group(0)), text)

    def _mask_phones(self, text: str) -> str:
        pieces: list[str] = []
        end = 0
        for found in phonenumbers.PhoneNumberMatcher(
            text, None, leniency=phonenumbers.Leniency.POSSIBLE
        ):
            e164 = phonenumbers.format_number(found.number, phonenumbers.PhoneNumberFormat.E164)
            pieces.append(text[end : found.start])
            pieces.append(self._token("phone", _digits(e164), found.raw_string))
            end = found.end
        pieces.append(text[end:])
        return _PHONE_LIKE.sub(self._national_phone, "".join(pieces))

    def _national_phone(self, match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = _digits(raw)
        if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS or _DATE_LIKE.search(raw):
            return raw
        return self._token("phone", digits, raw)

    def _mask_names(self, text: str) -> str:
        whole, parts = self._name_patterns()
        if whole is not None:
            text = whole.sub(lambda m: self._lookup[m.group(0).casefold()], text)
        if parts is not None:
            text = parts.sub(lambda m: self._lookup[f"part:{m.group(0).casefold()}"], text)
        return text

    def text(self, text: str) -> str:
        """``text`` with e-mails, phones and known senders' names replaced."""
        if not text:
            return text
        return self._mask_names(self._mask_phones(self._mask_emails(text)))

    def message(self, message: Message) -> Message:
        """``message`` as a model may read it: pseudonymous sender, masked text."""
        person = self.person(message.sender)
        sender = message.sender
        if sender is not None and person is not None:
            sender = replace(sender, name=person.pseudonym, username=None)
        forwarded = message.forward_from_name
        return replace(
            message,
            sender=sender,
            text=self.text(message.text),
            forward_from_name=self.text(forwarded) if forwarded else forwarded,
        )

    def messages(self, messages: Sequence[Message]) -> tuple[Message, ...]:
        """All of ``messages`` anonymised (every sender learnt first)."""
        self.learn(messages)
        return tuple(self.message(message) for message in messages)

    # ----------------------------------------------------------------- revealing

    def _revealed(self, match: re.Match[str]) -> str:
        if match.group(3) is not None:
            return self._originals.get(match.group(0), match.group(0))
        at, number = match.group(1), match.group(2)
        person = self._by_pseudonym.get(f"{PSEUDONYM_PREFIX}{number}")
        if person is None:
            return match.group(0)
        if at:
            return f"@{person.username}" if person.username else person.name
        return person.name

    def reveal(self, text: str) -> str:
        """A model's text with pseudonyms and mask tokens turned back into real values."""
        if not self._by_pseudonym and not self._originals:
            return text
        return _REVEAL.sub(self._revealed, text)

    def reveal_value(self, value: Any) -> Any:
        """:meth:`reveal` applied to every string inside ``value`` (models, lists,
        tuples, dicts); other values are returned as they are."""
        if isinstance(value, str):
            return self.reveal(value)
        if isinstance(value, BaseModel):
            return self.reveal_model(value)
        if isinstance(value, list):
            return [self.reveal_value(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.reveal_value(item) for item in value)
        if isinstance(value, dict):
            return {key: self.reveal_value(item) for key, item in value.items()}
        return value

    def reveal_model(self, model: M) -> M:
        """A validated answer with every text field revealed (no re-validation)."""
        updates = {
            name: self.reveal_value(getattr(model, name)) for name in type(model).model_fields
        }
        return model.model_copy(update=updates)

    def mapping(self) -> dict[str, str]:
        """Pseudonym → real name, for a report that wants to show the key."""
        return {person.pseudonym: person.name for person in self._people.values()}
