"""The sender matcher of spec telegram-cli §4.2, shared by ``like --from``, ``search --from``.

A matcher is what the user types to name a sender; it is read once and then tested
against each message's :class:`~tgpilot.models.Sender`:

- ``@name`` — exactly that username (case-folded; every leading ``@`` stripped);
- an integer (``12345``, or ``-1001234567890`` for a chat posting as itself) — that
  sender id;
- anything else — a case-folded substring of the sender's name or username.

Messages without a sender never match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from tgpilot.core.errors import UsageError
from tgpilot.models import Sender

_INTEGER = re.compile(r"^-?\d+$")


def fold(text: str) -> str:
    """The form names are compared in: NFC, then case-folded (``ß`` ≡ ``ss``, ``Ä`` ≡ ``ä``)."""
    return unicodedata.normalize("NFC", text).casefold()


def contains_folded(needle: str, *haystacks: str | None) -> bool:
    """True if the folded ``needle`` is a substring of any folded, non-empty haystack."""
    wanted = fold(needle)
    return any(h and wanted in fold(h) for h in haystacks)


class MatchKind(StrEnum):
    """How a matcher compares: exact username, sender id, or name/username substring."""

    USERNAME = "username"
    ID = "id"
    SUBSTRING = "substring"


@dataclass(frozen=True)
class SenderMatcher:
    """A parsed ``--from`` value; build with :meth:`parse`, test with :meth:`matches`."""

    text: str
    kind: MatchKind
    folded: str = ""
    sender_id: int | None = None

    @classmethod
    def parse(cls, text: str, *, option: str = "--from") -> SenderMatcher:
        """Read a matcher; an empty one (or a bare ``@``) is a usage error."""
        value = text.strip()
        if value.startswith("@"):
            name = value.lstrip("@")
            if not name:
                raise UsageError(f"{option}: empty username in {text!r}")
            return cls(text, MatchKind.USERNAME, folded=fold(name))
        if _INTEGER.match(value):
            return cls(text, MatchKind.ID, sender_id=int(value))
        if not value:
            raise UsageError(f"{option}: empty sender matcher", hint="use @username, id or a name")
        return cls(text, MatchKind.SUBSTRING, folded=fold(value))

    def matches(self, sender: Sender | None) -> bool:
        """True if ``sender`` is who this matcher names."""
        if sender is None:
            return False
        if self.kind is MatchKind.ID:
            return sender.id is not None and sender.id == self.sender_id
        if self.kind is MatchKind.USERNAME:
            return sender.username is not None and fold(sender.username) == self.folded
        return any(h and self.folded in fold(h) for h in (sender.name, sender.username))

    def describe(self) -> str:
        """How the matcher was understood, for plans and messages."""
        if self.kind is MatchKind.ID:
            return f"sender id {self.sender_id}"
        if self.kind is MatchKind.USERNAME:
            return f"username @{self.text.strip().lstrip('@')}"
        return f'name or username containing "{self.text.strip()}"'
