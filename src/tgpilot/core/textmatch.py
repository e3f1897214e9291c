"""All text matching of tgpilot (spec ai.md §3 "Matching"): terms, URLs and emoji.

Every feature that looks for words in message text — moderation, topics, sentiment,
hunt keywords, spam categories — goes through this module, so they all agree on what
a word is and what a term means.

**Folding.** Text and terms are compared in one form: NFC, case-folded (``ß`` ≡
``ss``), ``ё`` read as ``е``, and invisible format characters (soft hyphen, zero-width
space/joiner, word joiner, BOM) dropped, so ``х\\u200bуй`` is one word. Offsets of
matches still refer to the text as given.

**Words.** A word character is a Unicode letter, mark, digit or connector (the
``regex`` package's ``\\w``). URLs are blanked out before words are looked for, so
``bit.ly/сука`` holds no words.

**Terms.**

- ``word`` — a prefix at a word start: ``курьер`` matches "курьером", not "скурьер";
  the match covers the whole word.
- ``=word`` — the whole word only: ``=ai`` matches "AI" but not "email" or "said".
- ``re:PATTERN`` — a Python regular expression (compiled with ``regex``, case-
  insensitive) searched in the folded text *with* its URLs, so a pattern may target
  links (``re:t\\.me/\\w+\\?start=``). An invalid one is a :class:`UsageError` (exit 2)
  naming it.

A ``word`` or ``=word`` term may be a phrase: its spaces match any run of whitespace
(``only today``). A :class:`TermMatcher` compiles all its word terms into one regex
(a character trie, so the cost barely grows with the list) and each ``re:`` term once;
*exceptions* use the same syntax and veto every match lying inside one of theirs
(``сук`` with the exception ``сукн`` leaves "сукно" alone).

**Pre-checks.** Code that reads many texts at once (the analyze scanner) may skip work
the answer cannot depend on: :func:`quick_fold` folds a text whose folding keeps every
offset, :func:`may_hold_link` says when a text surely holds no link, and
:class:`RegexGate` says when no ``re:`` term of a set can match; each answers exactly
as the full matching would.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import regex

from tgpilot.core.errors import UsageError

_IGNORABLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
"""Characters matching ignores: soft hyphen, zero-width space/joiners, word joiner, BOM."""
_IGNORABLE_RE = regex.compile(f"[{_IGNORABLE}]")
_IGNORABLE_CHECK = re.compile(f"[{_IGNORABLE}]")
"""The same class for the standard ``re`` engine, quicker on :func:`quick_fold`'s search."""
_HOST_DOT = regex.compile(r"[\w-]\.[^\W\d_]")
_CLUSTER = regex.compile(r"\P{M}\p{M}*|\p{M}+")
_WHITESPACE = regex.compile(r"\s+")

# Top-level domains a bare host (no scheme, no "www.") may end in to count as a link.
# Any other TLD counts only when a path follows ("example.abc/x"). Kept short on
# purpose: file names such as "setup.py" or "README.md" must not become links.
_BARE_TLD_TEXT = (
    "com net org info biz edu gov io ai app dev me co ly gl gd cc tv su ru ua by kz uz kg "
    "am az ge ee lv lt cz sk de at ch nl be fr es pt uk eu us ca au nz jp cn kr br mx "
    "ar il tr ae se fi dk ie hu ro bg rs hr si gr fm gg ws tk ml ga cf gq vn th sg "
    "xyz top click loan win bid icu buzz monster rest cyou cfd sbs site online store "
    "shop club live pro link space fun website tech vip life world today news cloud "
    "blog money cash bet casino porn sex xxx adult party review racing stream faith "
    "kim country science cricket lol wtf gdn asia mobi "
    "рф рус укр бел"
)
_BARE_TLDS = tuple(_BARE_TLD_TEXT.split())
_URL_STOP = r"""[^\s<>"'«»“”]"""
_URL = regex.compile(
    rf"""
    (?:
        (?:https?|ftp|tg)://{_URL_STOP}+
      | (?<![\w@.-])www\.{_URL_STOP}+
      | (?<![\w@./-])
        (?:[\w-]+\.)+
        (?:
            (?:{"|".join(sorted(_BARE_TLDS, key=len, reverse=True))})(?![\w(-])
            (?::\d{{1,5}})?(?:[/?\#]{_URL_STOP}*)?
          | [^\W\d_]{{2,24}}(?::\d{{1,5}})?/{_URL_STOP}*
        )
    )
    """,
    regex.IGNORECASE | regex.VERBOSE,
)
_URL_TRAILING = ".,;:!?…'\"»”]}"

# A grapheme is an emoji if it holds a character drawn as emoji by default, an emoji
# variation selector, or a keycap; flags (regional-indicator pairs), skin tones and
# ZWJ families are one grapheme each.
_EMOJI = regex.compile(r"\p{Emoji_Presentation}|\ufe0f|\u20e3")
_GRAPHEME = regex.compile(r"\X")


def fold(text: str) -> str:
    """``text`` in the form matching compares: NFC, case-folded, ``ё``→``е``, no ZW chars."""
    folded = unicodedata.normalize("NFC", text).casefold().replace("ё", "е")
    return _IGNORABLE_RE.sub("", folded)


@dataclass(frozen=True)
class FoldedText:
    """A text prepared once for any number of matchers (see :func:`prepare`).

    ``folded`` is the folded text; ``words`` is the same with URLs blanked out by
    spaces (what word terms search). Both map back to ``original`` through
    :meth:`original_span`.
    """

    original: str
    folded: str
    words: str
    _starts: tuple[int, ...] | None = None
    _ends: tuple[int, ...] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of ``original`` that the non-empty folded span ``[start, end)`` came from."""
        if self._starts is None or self._ends is None or end <= start:
            return start, end
        return self._starts[start], self._ends[end - 1]


def prepare(text: str | FoldedText) -> FoldedText:
    """Fold ``text`` and blank its URLs; a :class:`FoldedText` is returned as it is."""
    if isinstance(text, FoldedText):
        return text
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None
    folded = quick_fold(text)
    if folded is None:
        pieces: list[str] = []
        start_list: list[int] = []
        end_list: list[int] = []
        for cluster in _CLUSTER.finditer(text):
            piece = fold(cluster.group())
            pieces.append(piece)
            start_list.extend([cluster.start()] * len(piece))
            end_list.extend([cluster.end()] * len(piece))
        folded = "".join(pieces)
        starts, ends = tuple(start_list), tuple(end_list)
    words = _blank_urls(folded) if may_hold_link(folded) else folded
    return FoldedText(text, folded, words, starts, ends)


def quick_fold(text: str) -> str | None:
    """``text`` folded as :func:`prepare` folds it when folding keeps every offset (ASCII
    text; NFC text whose case-folding keeps its length and holds no ignorable
    character), else None: only :func:`prepare`'s full folding will do."""
    if text.isascii():
        return text.lower()
    casefolded = text.casefold()
    if (
        len(casefolded) == len(text)
        and unicodedata.is_normalized("NFC", text)
        and not _IGNORABLE_CHECK.search(text)
    ):
        return casefolded.replace("ё", "е")
    return None


def may_hold_link(folded: str) -> bool:
    """False when folded text surely holds no link, so the link search can be skipped: a
    link needs "://", "www." or a host's dot (a word character, a dot and a letter —
    every top-level domain, and the path-carrying host form, start with a letter)."""
    return (
        "://" in folded
        or "www." in folded
        or ("." in folded and _HOST_DOT.search(folded) is not None)
    )


def _url_spans(text: str) -> Iterator[tuple[int, int]]:
    for match in _URL.finditer(text):
        url = match.group()
        trimmed = url.rstrip(_URL_TRAILING)
        while trimmed.endswith(")") and trimmed.count("(") < trimmed.count(")"):
            trimmed = trimmed[:-1].rstrip(_URL_TRAILING)
        if trimmed:
            yield match.start(), match.start() + len(trimmed)


def _blank_urls(text: str) -> str:
    spans = list(_url_spans(text))
    if not spans:
        return text
    parts: list[str] = []
    position = 0
    for start, end in spans:
        parts.append(text[position:start])
        parts.append(" " * (end - start))
        position = end
    parts.append(text[position:])
    return "".join(parts)


def find_urls(text: str) -> list[str]:
    """The links in ``text``, in order: scheme URLs, ``www.`` hosts and bare hosts.

    ``https://example.xyz/promo``, ``bit.ly/abc123``, ``t.me/name?start=x`` and
    ``github.com`` are links; e-mail addresses and file names like ``setup.py`` are not.
    Trailing punctuation is not part of a link.
    """
    return [text[start:end] for start, end in _url_spans(text)]


def strip_urls(text: str) -> str:
    """``text`` with each link replaced by one space (for word or ``?`` searches)."""
    spans = list(_url_spans(text))
    if not spans:
        return text
    parts: list[str] = []
    position = 0
    for start, end in spans:
        parts.append(text[position:start])
        parts.append(" ")
        position = end
    parts.append(text[position:])
    return "".join(parts)


def url_host(url: str) -> str:
    """The lower-case host of a link found by :func:`find_urls` (no ``www.``, no port)."""
    candidate = url if "://" in url else "//" + url
    try:
        host = urlsplit(candidate).hostname or ""
    except ValueError:
        return ""
    host = host.rstrip(".").lower()
    return host.removeprefix("www.")


def count_emoji(text: str) -> int:
    """How many emoji ``text`` holds, counted as graphemes (a flag or a family is one)."""
    if text.isascii():
        return 0
    return sum(1 for grapheme in _GRAPHEME.findall(text) if _EMOJI.search(grapheme))


class TermKind(StrEnum):
    """What a term matches: a word prefix, a whole word, or a regular expression."""

    PREFIX = "prefix"
    WORD = "word"
    REGEX = "regex"


@dataclass(frozen=True)
class Term:
    """One parsed term: ``raw`` as written, its ``kind`` and its folded ``key``."""

    raw: str
    kind: TermKind
    key: str


def parse_term(raw: str) -> Term:
    """Read ``word``, ``=word`` or ``re:PATTERN``; empty or invalid ones are usage errors."""
    text = raw.strip()
    if text.startswith("re:"):
        pattern = text[3:]
        if not pattern:
            raise UsageError(f"empty regular expression in term {raw!r}")
        _compile_pattern(raw, pattern)
        return Term(text, TermKind.REGEX, pattern)
    kind = TermKind.PREFIX
    if text.startswith("="):
        kind = TermKind.WORD
        text = text[1:].strip()
    key = _WHITESPACE.sub(" ", fold(text)).strip()
    if not key:
        raise UsageError(f"empty term {raw!r}", hint="use word, =word or re:PATTERN")
    return Term(raw.strip(), kind, key)


def regex_source(key: str) -> str:
    """The regular expression an ``re:`` term's key is compiled to (``ё`` read as ``е``,
    as in folded text); compiled case-insensitive with ``regex``."""
    return key.replace("ё", "е").replace("Ё", "Е")


def _compile_pattern(raw: str, pattern: str) -> regex.Pattern[str]:
    try:
        return regex.compile(regex_source(pattern), regex.IGNORECASE)
    except (regex.error, OverflowError, RecursionError) as error:
        raise UsageError(
            f"invalid regular expression {raw!r}: {error}",
            hint="terms are word, =word or re:PATTERN with a Python regex",
        ) from error


@dataclass(frozen=True)
class TermMatch:
    """One match: the ``term`` (as written) that matched and where.

    ``text`` is the matched piece of the original text, ``start``/``end`` its offsets
    there, and ``folded`` the same piece in folded form (for counting words).
    """

    term: str
    text: str
    start: int
    end: int
    folded: str


_Trie = dict[str, "_Trie"]


def _trie_pattern(keys: Iterable[str]) -> str:
    """A regex matching exactly ``keys``, factored as a character trie."""
    trie: _Trie = {}
    for key in keys:
        node = trie
        for char in key:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: _Trie) -> str:
        branches = []
        for char in sorted(c for c in node if c):
            atom = r"\s+" if char == " " else regex.escape(char)
            branches.append(atom + build(node[char]))
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        group = "(?:" + "|".join(branches) + ")"
        return group + "?" if "" in node else group

    return build(trie)


class TermMatcher:
    """A compiled set of terms (and exceptions), searched in one pass per text.

    Build it once, then call :meth:`contains`, :meth:`find` or :meth:`censor` on
    each text; any of them also accepts a :class:`FoldedText` from :func:`prepare`
    so several matchers can share the folding work.
    """

    def __init__(self, terms: Iterable[str], exceptions: Iterable[str] = ()) -> None:
        parsed = [parse_term(raw) for raw in terms if raw.strip()]
        self.terms: tuple[Term, ...] = tuple(dict.fromkeys(parsed))
        self._prefixes: dict[str, str] = {}
        self._words: dict[str, str] = {}
        self._regexes: list[tuple[str, regex.Pattern[str]]] = []
        for term in self.terms:
            if term.kind is TermKind.PREFIX:
                self._prefixes.setdefault(term.key, term.raw)
            elif term.kind is TermKind.WORD:
                self._words.setdefault(term.key, term.raw)
            else:
                self._regexes.append((term.raw, _compile_pattern(term.raw, term.key)))
        alternatives = []
        if self._prefixes:
            alternatives.append(rf"(?P<p>{_trie_pattern(self._prefixes)})\w*")
        if self._words:
            alternatives.append(rf"(?P<w>{_trie_pattern(self._words)})(?!\w)")
        self._word_regex: regex.Pattern[str] | None = (
            regex.compile(r"(?<!\w)(?:" + "|".join(alternatives) + ")") if alternatives else None
        )
        exception_list = [raw for raw in exceptions if raw.strip()]
        self._exceptions = TermMatcher(exception_list) if exception_list else None

    def __repr__(self) -> str:
        return f"TermMatcher({len(self.terms)} terms)"

    @property
    def has_exceptions(self) -> bool:
        """True when the matcher was built with exceptions (they may veto its matches)."""
        return self._exceptions is not None

    def _all_spans(self, text: FoldedText) -> list[tuple[int, int, str]]:
        """Every match of every term, overlapping ones included, by position."""
        spans: list[tuple[int, int, str]] = []
        if self._word_regex is not None:
            for match in self._word_regex.finditer(text.words):
                prefix = match.group("p") if self._prefixes else None
                if prefix is not None:
                    raw = self._prefixes[_WHITESPACE.sub(" ", prefix)]
                else:
                    raw = self._words[_WHITESPACE.sub(" ", match.group("w"))]
                spans.append((match.start(), match.end(), raw))
        for raw, pattern in self._regexes:
            for match in pattern.finditer(text.folded):
                if match.end() > match.start():
                    spans.append((match.start(), match.end(), raw))
        spans.sort(key=lambda span: (span[0], -span[1]))
        return spans

    def _spans(self, text: FoldedText) -> list[tuple[int, int, str]]:
        """The matches to report: outside every exception, first and longest wins."""
        spans = self._all_spans(text)
        if spans and self._exceptions is not None:
            vetoes = self._exceptions._all_spans(text)
            if vetoes:
                spans = [
                    span
                    for span in spans
                    if not any(v[0] <= span[0] and span[1] <= v[1] for v in vetoes)
                ]
        kept: list[tuple[int, int, str]] = []
        last_end = -1
        for span in spans:
            if span[0] >= last_end:
                kept.append(span)
                last_end = span[1]
        return kept

    def find(self, text: str | FoldedText) -> list[TermMatch]:
        """Every non-overlapping match in ``text``, in order of position."""
        prepared = prepare(text)
        matches = []
        for start, end, raw in self._spans(prepared):
            original_start, original_end = prepared.original_span(start, end)
            matches.append(
                TermMatch(
                    term=raw,
                    text=prepared.original[original_start:original_end],
                    start=original_start,
                    end=original_end,
                    folded=prepared.folded[start:end],
                )
            )
        return matches

    def contains(self, text: str | FoldedText) -> bool:
        """True if any term matches ``text`` (outside the exceptions)."""
        if not self.terms:
            return False
        return bool(self._spans(prepare(text)))

    def censor(self, text: str, replacement: str = "***") -> str:
        """``text`` with each match replaced by ``replacement``."""
        matches = self.find(text)
        if not matches:
            return text
        parts: list[str] = []
        position = 0
        for match in matches:
            if match.start < position:
                continue
            parts.append(text[position : match.start])
            parts.append(replacement)
            position = match.end
        parts.append(text[position:])
        return "".join(parts)


# --------------------------------------------------------------------------- re: pre-checks

_METACHARS = frozenset(".^$*+?{}[]\\|()#")
"""Characters that make a pattern more than a literal (``#`` for verbose comments)."""
_UNMERGEABLE = regex.compile(r"\\[1-9]|\\g<|\(\?P=|\(\?\(|\(\?[aiLmsuxV0-9]+\)")
"""Regex syntax that must not be merged into one alternation: back-references,
conditionals and global inline flags would change meaning once renumbered or moved."""
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789абвгдежзийклмнопрстуфхцчшщъыьэюя")
"""Characters that match only themselves and their capitals ignoring case, so a folded
text holds them as they are wherever a term matches them."""


def is_literal(pattern: str) -> bool:
    """True when an ``re:`` pattern (:func:`regex_source`) is a plain literal that matches
    ignoring case only as it is written: no regex syntax, no letter, no cased character
    (an emoji)."""
    return not _METACHARS & set(pattern) and not any(
        unicodedata.category(char).startswith("L")
        or char.lower() != char
        or char.upper() != char
        or char.casefold() != char
        for char in pattern
    )


def _alternation(patterns: Sequence[str]) -> regex.Pattern[str] | None:
    """One regex matching where any of ``patterns`` matches, or None when they cannot be
    merged without changing what they mean."""
    if any(_UNMERGEABLE.search(pattern) for pattern in patterns):
        return None
    try:
        return regex.compile("|".join(f"(?:{p})" for p in patterns), regex.IGNORECASE)
    except (regex.error, OverflowError, RecursionError):
        return None


def compile_any(patterns: Sequence[str]) -> list[regex.Pattern[str]]:
    """Regexes that together match where any of ``patterns`` (:func:`regex_source` of
    ``re:`` terms) matches: one alternation, or each apart when they cannot be merged."""
    merged = _alternation(patterns)
    if merged is not None:
        return [merged]
    return [regex.compile(pattern, regex.IGNORECASE) for pattern in patterns]


class RegexGate:
    """A cheap pre-check: whether any of some ``re:`` patterns (:func:`regex_source`) may
    match a folded text, so their matchers run only where one does.

    Literals without letters or case (emoji, :func:`is_literal`) are looked for as plain
    text by the standard ``re`` engine, and only in texts holding a character as high
    as the lowest of their highest ones. The others go through one ``regex``
    alternation — only in texts holding, for each of them, a piece of plain text every
    match of it holds, when each has one (see :func:`_required_text`).
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        literals = [p for p in patterns if is_literal(p)]
        others = [p for p in patterns if p not in literals]
        self._floor: re.Pattern[str] | None = None
        self._literals: re.Pattern[str] | None = None
        if literals:
            floor = min(max(literal) for literal in literals)
            self._floor = re.compile(f"[{re.escape(floor)}-\\U0010ffff]")
            self._literals = re.compile("|".join(map(re.escape, literals)))
        merged = _alternation(others) if others else None
        self._always = bool(others) and merged is None
        self._others = merged
        required = [_required_text(pattern) for pattern in others]
        self._required: tuple[str, ...] | None = (
            tuple(text for text in required if text is not None)
            if others and None not in required
            else None
        )

    def fires(self, folded: str) -> bool:
        """False only when no pattern can match ``folded``."""
        if self._always:
            return True
        required = self._required
        if (
            self._others is not None
            and (required is None or any(text in folded for text in required))
            and self._others.search(folded)
        ):
            return True
        return (
            self._literals is not None
            and self._floor is not None
            and self._floor.search(folded) is not None
            and self._literals.search(folded) is not None
        )


def _required_text(pattern: str) -> str | None:
    """The longest run of plain characters (:data:`_PLAIN`, three or more) that every
    match of ``pattern`` holds — a run of literals at its top level — or None.

    The pattern is read with the standard library's own regex parser (``re._parser``,
    loaded by name; any failure of it reads as None); one it cannot read, or one that
    may use the ``regex`` package's fuzzy matching (``{e<=1}``), has none.
    """
    if "{" in pattern:
        return None
    try:
        parser = importlib.import_module("re._parser")
        literal = importlib.import_module("re._constants").LITERAL
        items = list(parser.parse(pattern, re.IGNORECASE))
    except Exception:
        return None
    best, run = "", ""
    for op, argument in [*items, (None, None)]:
        char = chr(argument).lower() if op is literal else ""
        if len(char) == 1 and char in _PLAIN:
            run += char
            continue
        best = max(best, run, key=len)
        run = ""
    return best if len(best) >= 3 else None
