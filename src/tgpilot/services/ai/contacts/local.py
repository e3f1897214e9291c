"""Private conversations with people, analysed without a model (spec ai.md §4.6, §5).

A conversation keeps its texts over 5 characters, split into mine (outgoing) and
theirs. Per contact:

- **topics** — the analysis lexicon's topics (``topics.yml``) by how many texts of the
  conversation mention each, the top 5;
- **value suggestion** — from ``contact_values.yml``: the first rule whose terms match
  *their* texts (never mine) gives its offer ("Telegram bots & automation", "AI/LLM
  consulting", …); with none matching, a conversation of more than ``active.above``
  (20) texts gets ``active.offer`` ("active contact, offer cooperation"), any other
  ``default`` ("ask about current needs");
- **recent lines** — the 3 newest texts of each side, on one line, cut at 120
  characters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tgpilot.core.errors import ConfigError
from tgpilot.core.textmatch import FoldedText, TermMatcher, prepare
from tgpilot.core.wordlists import check_keys, load_wordlist, term_list, wordlist_source
from tgpilot.models import Chat, Message
from tgpilot.services.ai.analyze.lexicon import TopicLexicon
from tgpilot.services.ai.analyze.selection import text_length
from tgpilot.services.ai.digest.activity import cut, one_line
from tgpilot.services.ai.wordlists import compile_terms

CONTACT_VALUES = "contact_values"
MIN_LENGTH = 5
"""A conversation keeps texts of more than this many characters."""
TOP_TOPICS = 5
RECENT_PER_SIDE = 3
LINE_LENGTH = 120
ACTIVE = "active"
DEFAULT = "default"


@dataclass(frozen=True)
class ValueRule:
    """An offer, and the terms in a contact's texts that call for it."""

    name: str
    offer: str
    matcher: TermMatcher


@dataclass(frozen=True)
class Suggestion:
    """What to offer a contact, and which rule (or ``active``/``default``) said so."""

    offer: str
    rule: str


@dataclass(frozen=True)
class ValueRules:
    """The rules of ``contact_values.yml``, in file order, and its two fallbacks."""

    rules: tuple[ValueRule, ...]
    active_above: int
    active_offer: str
    default_offer: str

    def suggest(self, theirs: Sequence[str | FoldedText], total: int) -> Suggestion:
        """The first rule matching any of ``theirs``; else the active offer for more
        than ``active_above`` texts in all; else the default."""
        prepared = [prepare(text) for text in theirs]
        for rule in self.rules:
            if any(rule.matcher.contains(text) for text in prepared):
                return Suggestion(rule.offer, rule.name)
        if total > self.active_above:
            return Suggestion(self.active_offer, ACTIVE)
        return Suggestion(self.default_offer, DEFAULT)


def _text(data: Mapping[str, Any], key: str, origin: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{origin}: {key} must be a non-empty text")
    return value.strip()


def _rule(entry: object, index: int, origin: str) -> ValueRule:
    where = f"{origin}: rules[{index}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} must be a mapping with name, offer and terms")
    check_keys(entry, {"name", "offer", "terms"}, where)
    terms = term_list(entry, "terms", origin=where)
    if not terms:
        raise ConfigError(f"{where}: terms must list at least one term")
    name = _text(entry, "name", where)
    return ValueRule(name, _text(entry, "offer", where), compile_terms(terms, where))


def load_value_rules(override_dir: Path | None = None) -> ValueRules:
    """``contact_values.yml``: ``rules`` (each ``name``, ``offer``, ``terms``), ``active``
    (``above``, ``offer``) and ``default``."""
    data = load_wordlist(CONTACT_VALUES, override_dir)
    origin = wordlist_source(CONTACT_VALUES, override_dir)
    check_keys(data, {"rules", ACTIVE, DEFAULT}, origin)
    rules = data.get("rules") or []
    if not isinstance(rules, list):
        raise ConfigError(f"{origin}: rules must be a list")
    active = data.get(ACTIVE)
    if not isinstance(active, Mapping):
        raise ConfigError(f"{origin}: active must be a mapping with above and offer")
    above = active.get("above")
    if isinstance(above, bool) or not isinstance(above, int) or above < 0:
        raise ConfigError(f"{origin}: active.above must be a whole number, 0 or more")
    return ValueRules(
        rules=tuple(_rule(entry, index, origin) for index, entry in enumerate(rules)),
        active_above=above,
        active_offer=_text(active, "offer", f"{origin}: active"),
        default_offer=_text(data, DEFAULT, origin),
    )


def is_conversation_text(message: Message) -> bool:
    """A text of more than 5 characters (service messages never)."""
    return not message.is_service and text_length(message) > MIN_LENGTH


@dataclass(frozen=True)
class ConversationLine:
    """One recent text: when, whose (``mine``), and the text cut at 120 characters."""

    date: datetime
    mine: bool
    text: str


@dataclass(frozen=True)
class ContactAnalysis:
    """One contact's conversation, locally analysed; a model adds the summary,
    interests and next step (and how much of the conversation it read)."""

    chat: Chat
    messages: tuple[Message, ...]
    """The kept texts, chronological."""
    mine: int
    theirs: int
    topics: tuple[tuple[str, int], ...]
    suggestion: Suggestion
    recent: tuple[ConversationLine, ...]
    summary: str = ""
    interests: tuple[str, ...] = ()
    next_step: str = ""
    model_read: int | None = None
    """How many of the texts the model read (None: none went to a model)."""

    @property
    def total(self) -> int:
        return self.mine + self.theirs

    @property
    def model_cut(self) -> bool:
        """True when the model read only the newest texts (the rest did not fit)."""
        return self.model_read is not None and self.model_read < self.total

    @property
    def last_at(self) -> datetime | None:
        return self.messages[-1].date if self.messages else None


def _recent(messages: Sequence[Message]) -> tuple[ConversationLine, ...]:
    mine = [m for m in messages if m.is_outgoing][-RECENT_PER_SIDE:]
    theirs = [m for m in messages if not m.is_outgoing][-RECENT_PER_SIDE:]
    chosen = sorted((*mine, *theirs), key=lambda m: (m.date, m.id))
    return tuple(
        ConversationLine(m.date, m.is_outgoing, cut(one_line(m.text), LINE_LENGTH)) for m in chosen
    )


def analyse_contact(
    chat: Chat, messages: Sequence[Message], topics: TopicLexicon, rules: ValueRules
) -> ContactAnalysis:
    """The local analysis of one private conversation (see the module docstring)."""
    kept = sorted((m for m in messages if is_conversation_text(m)), key=lambda m: (m.date, m.id))
    prepared = [(m, prepare(m.text)) for m in kept]
    counts: Counter[str] = Counter()
    for _, text in prepared:
        counts.update(topics.topics_of(text))
    order = list(topics.names)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], order.index(item[0])))
    theirs = [text for message, text in prepared if not message.is_outgoing]
    return ContactAnalysis(
        chat=chat,
        messages=tuple(kept),
        mine=len(kept) - len(theirs),
        theirs=len(theirs),
        topics=tuple(ranked[:TOP_TOPICS]),
        suggestion=rules.suggest(theirs, len(kept)),
        recent=_recent(kept),
    )


def recent_conversations(
    reads: Sequence[tuple[Chat, Sequence[Message]]], me_ids: frozenset[int], count: int
) -> list[tuple[Chat, Sequence[Message]]]:
    """The ``count`` conversations with the newest kept text, leaving out empty ones and
    chats with the account itself (``me_ids``: Saved Messages offline)."""
    talked = [(chat, kept) for chat, kept in reads if kept and chat.id not in me_ids]
    talked.sort(key=lambda item: max(m.date for m in item[1]), reverse=True)
    return talked[:count]
