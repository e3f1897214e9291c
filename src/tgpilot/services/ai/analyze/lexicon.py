"""Lexicon topics, lexicon sentiment and profanity: what ``analyze`` finds without a model.

The lists are data files (``topics.yml``, ``sentiment.yml``, ``profanity.yml`` under
``tgpilot/data/wordlists/``, each replaceable in ``<data dir>/wordlists/``) and all
matching goes through :class:`~tgpilot.core.textmatch.TermMatcher` (spec ai.md §3, §5):

- a text **mentions a topic** when any term of the topic matches it ("ищу работу" →
  work; "технологии и AI" → tech, ai; "send email, he said" → none);
- its **sentiment score** is +0.2 per distinct positive marker and −0.2 per distinct
  negative one, clamped to [−1, 1] ("спасибо, отлично 👍" → +0.6), labelled positive
  above +0.2, negative below −0.2 and neutral otherwise.

:class:`~tgpilot.services.ai.analyze.scan.TextScanner` gives all three findings for
one text at once, as these lexicons would, fast enough for a million messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tgpilot.core.config.settings import ModerationSettings
from tgpilot.core.textmatch import FoldedText, TermMatcher
from tgpilot.core.wordlists import (
    check_keys,
    load_wordlist,
    term_groups,
    term_list,
    wordlist_source,
)
from tgpilot.services.ai.wordlists import compile_terms
from tgpilot.services.moderation import ProfanityChecker

TOPICS = "topics"
SENTIMENT = "sentiment"
SENTIMENT_STEP = 0.2
"""What one distinct marker adds to (or takes from) a text's sentiment score."""
LABEL_THRESHOLD = 0.2
"""Scores beyond ±this are positive or negative; the rest are neutral."""

POSITIVE = "positive"
NEGATIVE = "negative"
NEUTRAL = "neutral"


def sentiment_label(score: float) -> str:
    """``positive`` above +0.2, ``negative`` below −0.2, else ``neutral``."""
    if score > LABEL_THRESHOLD:
        return POSITIVE
    if score < -LABEL_THRESHOLD:
        return NEGATIVE
    return NEUTRAL


@dataclass(frozen=True)
class TopicLexicon:
    """Topics by name, each with its terms, in file order."""

    topics: tuple[tuple[str, TermMatcher], ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The topic names, in file order."""
        return tuple(name for name, _ in self.topics)

    def topics_of(self, text: str | FoldedText) -> list[str]:
        """The topics ``text`` mentions, in file order."""
        return [name for name, matcher in self.topics if matcher.contains(text)]


@dataclass(frozen=True)
class SentimentLexicon:
    """Positive and negative markers."""

    positive: TermMatcher
    negative: TermMatcher

    def score(self, text: str | FoldedText) -> float:
        """±0.2 per distinct marker, clamped to [−1, 1], two decimals."""
        return marker_score(
            distinct_terms(self.positive, text), distinct_terms(self.negative, text)
        )


def distinct_terms(matcher: TermMatcher, text: str | FoldedText) -> int:
    """How many different terms of ``matcher`` match ``text``."""
    return len({match.term for match in matcher.find(text)})


def marker_score(up: int, down: int) -> float:
    """The sentiment score of ``up`` positive and ``down`` negative distinct markers."""
    return round(max(-1.0, min(1.0, (up - down) * SENTIMENT_STEP)), 2)


def load_topics(override_dir: Path | None = None) -> TopicLexicon:
    """``topics.yml``: ``topics`` maps each topic name to its terms."""
    data = load_wordlist(TOPICS, override_dir)
    origin = wordlist_source(TOPICS, override_dir)
    check_keys(data, {"topics"}, origin)
    groups = term_groups(data, "topics", origin=origin)
    return TopicLexicon(
        tuple(
            (name, compile_terms(terms, f"{origin}: topic {name}"))
            for name, terms in groups.items()
        )
    )


def load_sentiment(override_dir: Path | None = None) -> SentimentLexicon:
    """``sentiment.yml``: ``positive`` and ``negative`` lists of markers."""
    data = load_wordlist(SENTIMENT, override_dir)
    origin = wordlist_source(SENTIMENT, override_dir)
    check_keys(data, {POSITIVE, NEGATIVE}, origin)
    return SentimentLexicon(
        positive=compile_terms(term_list(data, POSITIVE, origin=origin), f"{origin}: {POSITIVE}"),
        negative=compile_terms(term_list(data, NEGATIVE, origin=origin), f"{origin}: {NEGATIVE}"),
    )


@dataclass(frozen=True)
class Lexicons:
    """Everything local analysis matches text against."""

    topics: TopicLexicon
    sentiment: SentimentLexicon
    profanity: ProfanityChecker

    @classmethod
    def load(
        cls, moderation: ModerationSettings | None = None, *, override_dir: Path | None = None
    ) -> Lexicons:
        """The bundled lists (or the user's in ``override_dir``) plus the configured
        profanity patterns and exceptions (``moderation.profanity``)."""
        return cls(
            topics=load_topics(override_dir),
            sentiment=load_sentiment(override_dir),
            profanity=ProfanityChecker.from_settings(
                moderation or ModerationSettings(), override_dir=override_dir
            ),
        )
