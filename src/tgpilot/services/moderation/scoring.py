"""The profanity checker and the spam scorer (spec telegram-cli §4.6, ai.md §4.7).

:class:`ProfanityChecker` matches the bundled Russian and English stems plus
``moderation.profanity.patterns``, minus the bundled and configured exceptions, and
censors with ``moderation.replacement``.

:class:`SpamScorer` adds up, capped at 100:

==================  ======  =================================================
rule                points  fires for
==================  ======  =================================================
``category``        +30     each spam category with at least one match
``suspicious_url``  +15     each link to a URL shortener or a cheap TLD
``emoji``           +10     more than 5 emoji (graphemes: a flag is one)
``caps``            +15     over 50 % of letters upper case, text over 20 chars
``links``           +20     more than 2 links
``currency``        +10     a money marker ($, €, ₽, USD, USDT, руб, …)
==================  ======  =================================================

and calls a text spam at ``moderation.spam_threshold`` (30) or more. The result keeps
every fired rule and category match, for ``moderate check`` and ``moderate stats``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from tgpilot.core.config.settings import ModerationSettings
from tgpilot.core.errors import ConfigError, UsageError
from tgpilot.core.textmatch import (
    FoldedText,
    TermMatch,
    TermMatcher,
    count_emoji,
    find_urls,
    parse_term,
    prepare,
    url_host,
)
from tgpilot.services.moderation.wordlists import load_profanity, load_spam

MAX_SCORE = 100
EMOJI_LIMIT = 5
CAPS_MIN_LENGTH = 20
CAPS_SHARE = 0.5
LINKS_LIMIT = 2
LLM_MARGIN = 15


class SpamRule(StrEnum):
    """The rules of the spam score."""

    CATEGORY = "category"
    SUSPICIOUS_URL = "suspicious_url"
    EMOJI = "emoji"
    CAPS = "caps"
    LINKS = "links"
    CURRENCY = "currency"


RULE_POINTS: Mapping[SpamRule, int] = {
    SpamRule.CATEGORY: 30,
    SpamRule.SUSPICIOUS_URL: 15,
    SpamRule.EMOJI: 10,
    SpamRule.CAPS: 15,
    SpamRule.LINKS: 20,
    SpamRule.CURRENCY: 10,
}


def _validated(terms: Iterable[str], field: str) -> list[str]:
    """``terms`` from configuration, each parsed once so a bad one names its field."""
    kept = []
    for raw in terms:
        try:
            parse_term(raw)
        except UsageError as error:
            raise ConfigError(f"{field}: {error.message}", hint=error.hint) from error
        kept.append(raw)
    return kept


class ProfanityChecker:
    """Finds and censors profanity; build with :meth:`from_settings`."""

    def __init__(self, matcher: TermMatcher, replacement: str = "***") -> None:
        self.matcher = matcher
        self.replacement = replacement

    @classmethod
    def from_settings(
        cls, settings: ModerationSettings, *, override_dir: Path | None = None
    ) -> ProfanityChecker:
        """Bundled stems + ``profanity.patterns``, minus bundled + configured exceptions.

        ``override_dir`` is where a user's ``profanity.yml`` replacing the bundled one
        may live (``<data dir>/wordlists``). A bad configured term is a ConfigError.
        """
        lists = load_profanity(override_dir)
        patterns = _validated(settings.profanity.patterns, "moderation.profanity.patterns")
        exceptions = _validated(settings.profanity.exceptions, "moderation.profanity.exceptions")
        matcher = TermMatcher([*lists.terms, *patterns], [*lists.exceptions, *exceptions])
        return cls(matcher, settings.replacement)

    def check(self, text: str | FoldedText) -> list[TermMatch]:
        """Every profanity match in ``text`` (``match.text`` is the offending word)."""
        return self.matcher.find(text)

    def contains(self, text: str | FoldedText) -> bool:
        """True if ``text`` holds any profanity."""
        return self.matcher.contains(text)

    def censor(self, text: str) -> str:
        """``text`` with each offending word replaced by the configured replacement."""
        return self.matcher.censor(text, self.replacement)


@dataclass(frozen=True)
class FiredRule:
    """One rule that added to a score: which, how many points, and about what."""

    rule: SpamRule
    points: int
    detail: str = ""

    def describe(self) -> str:
        """``category crypto +30``, ``suspicious_url bit.ly/x +15``, ``caps +15``."""
        detail = f" {self.detail}" if self.detail else ""
        return f"{self.rule}{detail} +{self.points}"


@dataclass(frozen=True)
class SpamCategoryHit:
    """A spam category that matched, with the pieces of text that matched it."""

    category: str
    matches: tuple[str, ...]


@dataclass(frozen=True)
class SpamScore:
    """The spam score of one text: the capped score, the threshold, and why."""

    score: int
    threshold: int
    rules: tuple[FiredRule, ...] = ()
    category_hits: tuple[SpamCategoryHit, ...] = ()

    @property
    def is_spam(self) -> bool:
        """True at the threshold or above."""
        return self.score >= self.threshold

    @property
    def uncapped(self) -> int:
        """The sum of all fired rules before the cap of 100."""
        return sum(rule.points for rule in self.rules)

    @property
    def categories(self) -> tuple[str, ...]:
        """The names of the matched categories, in configuration order."""
        return tuple(hit.category for hit in self.category_hits)

    def near_threshold(self, margin: int = LLM_MARGIN) -> bool:
        """True within ``margin`` points of the threshold (when an LLM verdict may decide)."""
        return abs(self.score - self.threshold) <= margin

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form for ``--json`` output."""
        return {
            "score": self.score,
            "threshold": self.threshold,
            "spam": self.is_spam,
            "rules": [
                {"rule": str(rule.rule), "points": rule.points, "detail": rule.detail}
                for rule in self.rules
            ],
            "categories": {hit.category: list(hit.matches) for hit in self.category_hits},
        }


class SpamScorer:
    """Scores texts for spam; build with :meth:`from_settings`."""

    def __init__(
        self,
        categories: Mapping[str, TermMatcher],
        *,
        money: TermMatcher,
        shorteners: Iterable[str] = (),
        cheap_tlds: Iterable[str] = (),
        threshold: int = 30,
    ) -> None:
        if not 1 <= threshold <= MAX_SCORE:
            raise UsageError(f"spam threshold must be between 1 and {MAX_SCORE}: {threshold}")
        self.categories = dict(categories)
        self.money = money
        self.shorteners = frozenset(host.lower() for host in shorteners)
        self.cheap_tlds = frozenset(tld.lower().lstrip(".") for tld in cheap_tlds)
        self.threshold = threshold

    @classmethod
    def from_settings(
        cls,
        settings: ModerationSettings,
        *,
        threshold: int | None = None,
        override_dir: Path | None = None,
    ) -> SpamScorer:
        """Bundled categories extended by ``moderation.spam.patterns``.

        A configured category with a bundled name adds its terms to it; a new name is
        a new category. ``threshold`` (``--spam-threshold``) overrides
        ``spam_threshold``; ``override_dir`` may hold a user's ``spam.yml``.
        """
        lists = load_spam(override_dir)
        terms: dict[str, list[str]] = {
            name: list(items) for name, items in lists.categories.items()
        }
        for name, extra in settings.spam.patterns.items():
            field = f"moderation.spam.patterns.{name}"
            terms.setdefault(name, []).extend(_validated(extra, field))
        return cls(
            {name: TermMatcher(items) for name, items in terms.items() if items},
            money=TermMatcher(lists.money),
            shorteners=lists.shorteners,
            cheap_tlds=lists.cheap_tlds,
            threshold=settings.spam_threshold if threshold is None else threshold,
        )

    def is_suspicious_url(self, url: str) -> bool:
        """True for a link to a URL shortener (or its subdomain) or to a cheap TLD."""
        host = url_host(url)
        if not host:
            return False
        if host in self.shorteners or any(host.endswith("." + s) for s in self.shorteners):
            return True
        return host.rsplit(".", 1)[-1] in self.cheap_tlds

    def score(self, text: str) -> SpamScore:
        """The spam score of ``text`` with every rule that fired."""
        prepared = prepare(text)
        rules: list[FiredRule] = []
        hits: list[SpamCategoryHit] = []
        for name, matcher in self.categories.items():
            matches = matcher.find(prepared)
            if matches:
                hits.append(SpamCategoryHit(name, tuple(m.text for m in matches)))
                rules.append(FiredRule(SpamRule.CATEGORY, RULE_POINTS[SpamRule.CATEGORY], name))
        urls = find_urls(text)
        for url in urls:
            if self.is_suspicious_url(url):
                points = RULE_POINTS[SpamRule.SUSPICIOUS_URL]
                rules.append(FiredRule(SpamRule.SUSPICIOUS_URL, points, url))
        emoji = count_emoji(text)
        if emoji > EMOJI_LIMIT:
            rules.append(FiredRule(SpamRule.EMOJI, RULE_POINTS[SpamRule.EMOJI], f"{emoji} emoji"))
        share = upper_case_share(text)
        if len(text) > CAPS_MIN_LENGTH and share > CAPS_SHARE:
            rules.append(
                FiredRule(SpamRule.CAPS, RULE_POINTS[SpamRule.CAPS], f"{share:.0%} upper case")
            )
        if len(urls) > LINKS_LIMIT:
            rules.append(
                FiredRule(SpamRule.LINKS, RULE_POINTS[SpamRule.LINKS], f"{len(urls)} links")
            )
        money = self.money.find(prepared)
        if money:
            rules.append(
                FiredRule(SpamRule.CURRENCY, RULE_POINTS[SpamRule.CURRENCY], money[0].text)
            )
        score = min(MAX_SCORE, sum(rule.points for rule in rules))
        return SpamScore(score, self.threshold, tuple(rules), tuple(hits))

    def is_spam(self, text: str) -> bool:
        """True if ``text`` scores at the threshold or above."""
        return self.score(text).is_spam


def upper_case_share(text: str) -> float:
    """The share of ``text``'s cased letters that are upper case (0.0 without letters).

    Only letters with case count, so digits, punctuation and caseless scripts neither
    raise nor dilute the share.
    """
    upper = lower = 0
    for char in text:
        if char.isupper():
            upper += 1
        elif char.islower():
            lower += 1
    total = upper + lower
    return upper / total if total else 0.0
