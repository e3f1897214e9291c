"""The moderation word lists: ``profanity.yml`` and ``spam.yml``, typed and validated.

Both are bundled under ``tgpilot/data/wordlists/`` and can be replaced as a whole by a
file of the same name in the override directory (see :mod:`tgpilot.core.wordlists`);
configuration then adds to them (:mod:`.scoring`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tgpilot.core.wordlists import (
    check_keys,
    load_wordlist,
    term_groups,
    term_list,
    wordlist_source,
)

PROFANITY = "profanity"
SPAM = "spam"


@dataclass(frozen=True)
class ProfanityList:
    """Profanity stems by language (``ru``, ``en``, …) and the words never flagged."""

    languages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    exceptions: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        """The stems of every language, in file order."""
        return tuple(term for terms in self.languages.values() for term in terms)


@dataclass(frozen=True)
class SpamLists:
    """Spam categories (name → terms), money markers, and suspicious hosts."""

    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    money: tuple[str, ...] = ()
    shorteners: frozenset[str] = frozenset()
    cheap_tlds: frozenset[str] = frozenset()


def load_profanity(override_dir: Path | None = None) -> ProfanityList:
    """``profanity.yml``: every key but ``exceptions`` is a language's list of stems."""
    data = load_wordlist(PROFANITY, override_dir)
    origin = wordlist_source(PROFANITY, override_dir)
    languages = {
        str(key): tuple(term_list(data, key, origin=origin)) for key in data if key != "exceptions"
    }
    return ProfanityList(languages, tuple(term_list(data, "exceptions", origin=origin)))


def _hosts(data: Mapping[str, object], key: str, origin: str) -> frozenset[str]:
    return frozenset(
        item.strip().lower().strip(".")
        for item in term_list(data, key, origin=origin)
        if item.strip(". ")
    )


def load_spam(override_dir: Path | None = None) -> SpamLists:
    """``spam.yml``: ``categories``, ``money``, ``shorteners`` and ``cheap_tlds``."""
    data = load_wordlist(SPAM, override_dir)
    origin = wordlist_source(SPAM, override_dir)
    check_keys(data, {"categories", "money", "shorteners", "cheap_tlds"}, origin)
    categories = {
        name: tuple(terms) for name, terms in term_groups(data, "categories", origin=origin).items()
    }
    return SpamLists(
        categories=categories,
        money=tuple(term_list(data, "money", origin=origin)),
        shorteners=_hosts(data, "shorteners", origin),
        cheap_tlds=_hosts(data, "cheap_tlds", origin),
    )
