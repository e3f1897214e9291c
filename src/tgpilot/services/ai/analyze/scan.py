"""Topics, sentiment and profanity of a text in one pass, for a million messages.

:class:`TextScanner` answers, for one text, exactly what the three lexicons answer —
``(topics.topics_of(t), sentiment.score(t), profanity.contains(t))`` — at a fraction of
the cost of running their matchers (16 topics, two sentiment sides, profanity) one by
one. It relies on what a term is (:mod:`tgpilot.core.textmatch`): a word term is a
prefix of a word, or a whole word, found at a word start in the text folded and with
its links blanked out; an ``re:`` term is a regex searched in the folded text.

**Folding** is :func:`~tgpilot.core.textmatch.prepare`'s, skipped when its two public
pre-checks allow: :func:`~tgpilot.core.textmatch.quick_fold` (folding keeps every
offset) and :func:`~tgpilot.core.textmatch.may_hold_link` (no "://", "www." or host dot).

**The gate.** Every word term's *head* — its key up to the first character no word can
continue with — goes into one alternation, compiled as a character trie for the
standard ``re`` engine. Wherever a word starts, some head matches if any word term of
any list does, and the longest head that does holds every other one that does as a
prefix. No word starts inside a head, so the gate's matches need not overlap, and none
spans whitespace: the text is read in whitespace-free pieces, and what the gate finds
in a piece is remembered (chat vocabulary repeats; at most :data:`TOKEN_CACHE` pieces).

**Reading terms off the gate.** Each topic, each sentiment side's word terms and the
profanity list are *owners*. An owner without exceptions has its plain-word keys *read
off*: at a gate match that surely is a word start (a piece's start, or after a
character that surely is no word character), its term is its longest prefix key that
is a prefix of the head found, else its whole-word key equal to the head when the word
ends there — what its own matcher reports at that word start. A topic reads off its
plain keys even beside phrases (only whether it matches counts; a phrase's head makes
it run); a sentiment side reads off only when all its keys are plain (it counts
distinct terms). Every other case — an owner with exceptions (profanity), a phrase, a
position that may or may not be a word start (after an emoji, a combining mark, a
Greek letter…), a word whose end is unsure — runs the owner's own matcher, which
decides.

**``re:`` terms.** One gate (:class:`~tgpilot.core.textmatch.RegexGate`) says whether
any may match: literals of symbols (emoji) are looked for as plain text, and only in a
text holding a character at least as high as the lowest of theirs; the others through
one ``regex`` alternation, and only in a text holding a piece of plain text each of them
requires, when each has one. When it fires, each owner's own alternation
(:func:`~tgpilot.core.textmatch.compile_any`) tells whose matcher runs. A sentiment side counts its
word terms and its ``re:`` terms apart (emoji markers as plain text) when no match of
one can overlap one of the other, else through its whole matcher.

Whatever is read off must be what a matcher would say: ``tests/test_analyze_scan.py``
checks the scanner against the lexicons on texts built to find the edges.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import regex

from tgpilot.core.textmatch import (
    FoldedText,
    RegexGate,
    TermKind,
    TermMatcher,
    compile_any,
    is_literal,
    may_hold_link,
    prepare,
    quick_fold,
    regex_source,
)
from tgpilot.services.ai.analyze.lexicon import Lexicons, distinct_terms, marker_score

Findings = tuple[tuple[str, ...], float, bool]
"""What :meth:`TextScanner.scan` finds in a text: its topics (in file order), its
sentiment score and whether it holds profanity."""

NOTHING: Findings = ((), 0.0, False)

_TokenFindings = tuple[int, int, tuple[str, ...], tuple[str, ...]]
"""Of a piece of text: the owners that must run, the owners with terms read off, and
the positive and negative terms read off."""
_NOTHING_HERE: _TokenFindings = (0, 0, (), ())
TOKEN_CACHE = 1 << 17
"""Whitespace-free pieces of text whose findings are remembered (then forgotten all at
once): chat vocabulary is mostly a few thousand words, so most are found here."""

_WORD_CHAR = regex.compile(r"\w")
"""A word character as the matchers read it (the ``regex`` package's ``\\w``)."""
_SURELY_WORD_RANGES = "0-9A-Za-z_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0400-\u0481\u048a-\u04ff"
"""Word characters written out for the standard ``re`` engine (much faster on a big
alternation than ``regex``): digits, ASCII, Latin-1 and Cyrillic letters, underscore."""
_SURELY_WORD = frozenset(
    char for char in map(chr, range(0x500)) if re.fullmatch(f"[{_SURELY_WORD_RANGES}]", char)
)
_SURELY_NOT_WORD = frozenset(
    char
    for char in string.whitespace
    + string.punctuation
    + "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029"
    + "\u202f\u205f\u3000«»‹›„“”‚‘’—–‐‑‒―…·•№"
    if not _WORD_CHAR.match(char)
)


def _head(key: str) -> str:
    """The part of a key no word can start inside: its leading run of word characters
    (or its first character when that is not one)."""
    if not _WORD_CHAR.match(key[0]):
        return key[0]
    end = 1
    while end < len(key) and _WORD_CHAR.match(key[end]):
        end += 1
    return key[:end]


def _trie(keys: Iterable[str]) -> str:
    """A regex matching exactly ``keys`` as a character trie, so that at a position it
    matches the longest key found there."""
    root: dict[str, Any] = {}
    for key in keys:
        node = root
        for char in key:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + build(node[char]) for char in sorted(c for c in node if c)]
        if not branches:
            return ""
        group = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return "(?:" + group + ")?" if len(branches) == 1 else group + "?"
        return group

    return build(root)


def _fold(text: str) -> tuple[str, str, FoldedText | None]:
    """``(folded, words)`` of ``text`` as :func:`~tgpilot.core.textmatch.prepare` makes
    them, without its work when folding keeps every offset and the text cannot hold a
    link; the third item is the :class:`FoldedText` when ``prepare`` had to run (None
    otherwise)."""
    folded = quick_fold(text)
    if folded is None or may_hold_link(folded):
        prepared = prepare(text)
        return prepared.folded, prepared.words, prepared
    return folded, folded, None


@dataclass(frozen=True)
class _Owner:
    """Word terms the gate serves, under one bit: the heads of all their keys, the heads
    whose presence makes the owner's matcher run, and the keys read off the gate —
    prefix keys and whole-word keys, each to its term as written."""

    bit: int
    heads: frozenset[str]
    run_heads: frozenset[str]
    prefixes: dict[str, str]
    wholes: dict[str, str]

    @classmethod
    def of(
        cls,
        bit: int,
        matcher: TermMatcher,
        *,
        presence_only: bool = False,
        with_regex_terms: bool = False,
    ) -> _Owner:
        """The owner of ``matcher``'s word terms. Keys of plain words are read off when
        the matcher has no exceptions (nor ``re:`` terms, unless ``with_regex_terms``:
        the regex gate sees to those) and, unless only whether it matches at all counts
        (``presence_only``: a topic), no other key (a phrase) could take their place."""
        prefixes: dict[str, str] = {}
        wholes: dict[str, str] = {}
        others: set[str] = set()
        readable = not matcher.has_exceptions
        for term in matcher.terms:
            if term.kind is TermKind.REGEX:
                readable = readable and with_regex_terms
            elif _head(term.key) != term.key:
                others.add(term.key)
            elif term.kind is TermKind.PREFIX:
                prefixes.setdefault(term.key, term.raw)
            else:
                wholes.setdefault(term.key, term.raw)
        heads = frozenset(_head(key) for key in (*prefixes, *wholes, *others))
        if not readable or (others and not presence_only):
            return cls(bit, heads, heads, {}, {})
        return cls(bit, heads, frozenset(_head(key) for key in others), prefixes, wholes)


@dataclass(frozen=True)
class _At:
    """What a gate match of one head means: the owners whose matcher must run, every
    owner with a key there, and the terms read off — prefix terms, and whole-word terms
    if the word ends there."""

    run: int
    every: int
    prefix_terms: tuple[tuple[int, str], ...]
    whole_terms: tuple[tuple[int, str], ...]
    whole_bits: int


class _Side:
    """One sentiment side: the whole matcher, its word terms' matcher (``words_bit``)
    and its ``re:`` terms (``regex_bit``) apart.

    Counted apart, the two parts give the whole matcher's distinct terms when no match
    of one can overlap a match of the other: when the word terms are plain words and
    every ``re:`` term is a literal of symbols (no word character, no space, no case)
    that cannot overlap another — the emoji markers. Then the ``re:`` terms are looked
    for as plain text. Otherwise, when both parts find something, the whole matcher
    counts.
    """

    def __init__(self, whole: TermMatcher, words_bit: int, regex_bit: int) -> None:
        self.whole = whole
        self.words_bit, self.regex_bit = words_bit, regex_bit
        self.bits = words_bit | regex_bit
        word_terms = [t for t in whole.terms if t.kind is not TermKind.REGEX]
        regex_terms = [t for t in whole.terms if t.kind is TermKind.REGEX]
        self.words = TermMatcher([t.raw for t in word_terms]) if word_terms else None
        self.regexes = TermMatcher([t.raw for t in regex_terms]) if regex_terms else None
        self.split = not whole.has_exceptions
        literals = [(t.raw, regex_source(t.key)) for t in regex_terms]
        self.literals: tuple[tuple[str, str], ...] | None = None
        if (
            self.split
            and all(_head(t.key) == t.key for t in word_terms)
            and all(_symbols(pattern) for _, pattern in literals)
            and not _may_overlap([pattern for _, pattern in literals])
        ):
            self.literals = tuple(literals)

    def count(self, text: FoldedText | str, folded: str, run: int, read: Sequence[str]) -> int:
        """Distinct terms of this side in a text (``text`` folded when ``run`` has any
        bit), given the owners to run and the word terms read off."""
        if run & self.words_bit and self.words is not None:
            by_words = {match.term for match in self.words.find(text)}
        else:
            by_words = set(read)
        by_regex: set[str] = set()
        if run & self.regex_bit:
            if self.literals is not None:
                by_regex = {raw for raw, literal in self.literals if literal in folded}
            elif self.regexes is not None:
                by_regex = {match.term for match in self.regexes.find(text)}
        if (by_words and by_regex and self.literals is None) or (
            not self.split and (by_words or by_regex)
        ):
            return distinct_terms(self.whole, text)
        return len(by_words) + len(by_regex)


def _symbols(pattern: str) -> bool:
    """True for a literal of symbols: no regex syntax, no word character, no space, no
    case (an emoji)."""
    return (
        bool(pattern)
        and is_literal(pattern)
        and not any(_WORD_CHAR.match(char) or char.isspace() for char in pattern)
    )


def _may_overlap(literals: Sequence[str]) -> bool:
    """True when two occurrences of these literals could overlap in a text."""
    for a in literals:
        for b in literals:
            if a == b:
                continue
            if a in b or any(a.endswith(b[:n]) for n in range(1, len(b))):
                return True
    return False


class TextScanner:
    """``(topics, sentiment score, profane)`` of texts, as the lexicons give them (see
    the module docstring for how)."""

    def __init__(self, lexicons: Lexicons) -> None:
        topics = lexicons.topics.topics
        self._topics: tuple[tuple[int, str, TermMatcher], ...] = tuple(
            (1 << n, name, matcher) for n, (name, matcher) in enumerate(topics)
        )
        self._topic_names: dict[int, tuple[str, ...]] = {}
        bit = 1 << len(topics)
        self._topic_bits = bit - 1
        positive, negative = lexicons.sentiment.positive, lexicons.sentiment.negative
        self._positive = _Side(positive, bit, bit << 1)
        self._negative = _Side(negative, bit << 2, bit << 3)
        self._profane = bit << 4
        self._profanity = lexicons.profanity.matcher
        owners = [
            _Owner.of(b, m, presence_only=True, with_regex_terms=True) for b, _, m in self._topics
        ]
        owners += [
            _Owner.of(side.words_bit, side.words if side.split else side.whole)
            for side in (self._positive, self._negative)
            if side.words is not None
        ]
        owners.append(_Owner.of(self._profane, self._profanity))
        self._at = _gate_table(owners)
        self._gate = (
            re.compile(f"(?<![{_SURELY_WORD_RANGES}])(?:{_trie(self._at)})") if self._at else None
        )
        patterns: dict[int, list[str]] = {}
        regex_owners = [(b, m) for b, _, m in self._topics]
        regex_owners += [(s.regex_bit, s.whole) for s in (self._positive, self._negative)]
        regex_owners.append((self._profane, self._profanity))
        for owner_bit, matcher in regex_owners:
            for term in matcher.terms:
                if term.kind is TermKind.REGEX:
                    patterns.setdefault(owner_bit, []).append(regex_source(term.key))
        every = [pattern for group in patterns.values() for pattern in group]
        self._regex_gate = RegexGate(every)
        self._tokens: dict[str, _TokenFindings] = {}
        self._regex_owners: list[tuple[int, regex.Pattern[str]]] = []
        for owner_bit, group in patterns.items():
            self._regex_owners += [(owner_bit, gate) for gate in compile_any(group)]

    def _read(self, token: str) -> _TokenFindings:
        """What the gate tells about one whitespace-free piece of folded text: the
        owners that must run, the owners with terms read off, and the positive and
        negative terms read off (see the module docstring)."""
        assert self._gate is not None
        at, sure, surely_word = self._at, _SURELY_NOT_WORD, _SURELY_WORD
        run, end = 0, 0
        terms: list[tuple[int, str]] = []
        for head in self._gate.findall(token):  # match objects would cost more
            entry = at[head]
            # Where the gate found it: the first place from the last match's end where
            # the head stands after no sure word character.
            start = token.find(head, end)
            while start > 0 and token[start - 1] in surely_word:
                start = token.find(head, start + 1)
            end = start + len(head)
            if start < 0 or (start and token[start - 1] not in sure):  # a word start?
                run |= entry.every
                continue
            run |= entry.run
            terms += entry.prefix_terms
            if entry.whole_terms:
                after = token[end] if end < len(token) else " "
                if after in sure:
                    terms += entry.whole_terms
                elif after not in surely_word:
                    run |= entry.whole_bits
        if not run and not terms:
            return _NOTHING_HERE
        marks = 0
        for owner_bit, _ in terms:
            marks |= owner_bit
        up, down = self._positive.words_bit, self._negative.words_bit
        return (
            run,
            marks,
            tuple(term for owner_bit, term in terms if owner_bit == up),
            tuple(term for owner_bit, term in terms if owner_bit == down),
        )

    def scan(self, text: str) -> Findings:
        """``(topics, sentiment score, profane)`` of ``text``."""
        folded, words, prepared = _fold(text)
        run = marks = 0
        ups: list[str] = []
        downs: list[str] = []
        if self._gate is not None:
            cache = self._tokens
            for token in words.split():
                found = cache.get(token)
                if found is None:
                    if len(cache) >= TOKEN_CACHE:
                        cache.clear()
                    found = cache[token] = self._read(token)
                if found is not _NOTHING_HERE:
                    run |= found[0]
                    marks |= found[1]
                    if found[2]:
                        ups += found[2]
                    if found[3]:
                        downs += found[3]
        if self._regex_owners and self._regex_gate.fires(folded):
            for owner_bit, pattern in self._regex_owners:
                if not run & owner_bit and pattern.search(folded):
                    run |= owner_bit
        if not run and not marks:
            return NOTHING
        marks |= run
        target: FoldedText | str = text  # matchers only run when ``run`` has a bit
        if run:
            target = prepared if prepared is not None else FoldedText(text, folded, words)
        topics: tuple[str, ...] = ()
        if marks & self._topic_bits:
            topics = self._topics_of(marks & self._topic_bits, run, target)
        positive, negative = self._positive, self._negative
        up = positive.count(target, folded, run, ups) if marks & positive.bits else 0
        down = negative.count(target, folded, run, downs) if marks & negative.bits else 0
        profane = bool(run & self._profane) and self._profanity.contains(target)
        return topics, marker_score(up, down) if up or down else 0.0, profane

    def _topics_of(self, marks: int, run: int, target: FoldedText | str) -> tuple[str, ...]:
        """The topics among ``marks`` that match: all of them unless their matcher
        must run (``run``) and says no."""
        if not marks & run:
            names = self._topic_names.get(marks)
            if names is None:
                names = self._topic_names[marks] = tuple(
                    name for topic_bit, name, _ in self._topics if marks & topic_bit
                )
            return names
        return tuple(
            name
            for topic_bit, name, matcher in self._topics
            if marks & topic_bit and (not run & topic_bit or matcher.contains(target))
        )


def _gate_table(owners: Sequence[_Owner]) -> dict[str, _At]:
    """Every head of every owner's keys, with what a gate match of it means."""
    by_head: dict[str, int] = {}
    for owner in owners:
        for head in owner.heads:
            by_head[head] = by_head.get(head, 0) | owner.bit
    table: dict[str, _At] = {}
    for head in by_head:
        prefixes = [head[:end] for end in range(len(head), 0, -1)]  # longest first
        every = 0
        for prefix in prefixes:
            every |= by_head.get(prefix, 0)
        run = whole_bits = 0
        prefix_terms: list[tuple[int, str]] = []
        whole_terms: list[tuple[int, str]] = []
        for owner in owners:
            if not every & owner.bit:
                continue
            if any(prefix in owner.run_heads for prefix in prefixes):
                run |= owner.bit
            longest = next((p for p in prefixes if p in owner.prefixes), None)
            if longest is not None:
                prefix_terms.append((owner.bit, owner.prefixes[longest]))
            elif head in owner.wholes:
                whole_terms.append((owner.bit, owner.wholes[head]))
                whole_bits |= owner.bit
        table[head] = _At(run, every, tuple(prefix_terms), tuple(whole_terms), whole_bits)
    return table
