"""The public pre-checks of core/textmatch: each must answer exactly as full matching.

``quick_fold`` and ``may_hold_link`` let a caller skip :func:`prepare`'s work, and
``RegexGate`` lets it skip ``re:`` terms, only where the result cannot change; the
analyze scanner relies on that (tests/test_analyze_scan.py checks the scanner whole).
"""

from __future__ import annotations

import random

import regex

from tgpilot.core.textmatch import (
    RegexGate,
    TermMatcher,
    compile_any,
    find_urls,
    is_literal,
    may_hold_link,
    prepare,
    quick_fold,
    regex_source,
)

SAMPLES = [
    "Привет, как дела?",
    "Ёлка и ЁЖИК",
    "Straße",  # case-folding makes it longer
    "х\u200bуй",  # a zero-width space
    "Cafe\u0301",  # not NFC
    "see bit.ly/abc and WWW.1example",
    "python setup.py install, version 3.14",
    "https://t.me/name?start=x",
    "e-mail me: a@b.co",
    "спасибо 👍👍 отлично",
    "",
]
PIECES = ["ок", "ёж", "WWW.", "www.1", "://", "a.b", "3.1", " ", "ß", "\u200b", "👍", "x", "."]


def random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8))) for _ in range(count)]


def test_quick_fold_is_prepares_folding_when_offsets_are_kept() -> None:
    for text in [*SAMPLES, *random_texts(500, 3)]:
        folded = quick_fold(text)
        if folded is not None:
            assert folded == prepare(text).folded, text
            assert len(folded) == len(text), text


def test_quick_fold_declines_text_whose_folding_moves_offsets() -> None:
    assert quick_fold("Straße") is None
    assert quick_fold("х\u200bуй") is None
    assert quick_fold("Cafe\u0301") is None
    assert quick_fold("Ёлка") == "елка"


def test_no_link_is_missed_where_the_link_check_says_none() -> None:
    for text in [*SAMPLES, *random_texts(500, 5)]:
        folded = prepare(text).folded
        if not may_hold_link(folded):
            assert not find_urls(folded), text
            assert prepare(text).words == folded, text


def test_link_check_sees_each_kind_of_link() -> None:
    assert may_hold_link("https://x")
    assert may_hold_link("www.1")
    assert may_hold_link("bit.ly/abc")
    assert not may_hold_link("версия 3.14, всё ок")


def test_regex_gate_fires_wherever_a_pattern_matches() -> None:
    patterns = [
        regex_source(p)
        for p in ["👍", "💩💩", r"\bпло", "f+u+c+k", r"(\w)\1", "спаси", "hello\\s+world"]
    ]
    gate = RegexGate(patterns)
    compiled = [regex.compile(p, regex.IGNORECASE) for p in patterns]
    texts = [*SAMPLES, "плохо", "fffuuuck", "aa", "hello   world", "💩", "💩💩"]
    for text in texts:
        folded = prepare(text).folded
        if any(p.search(folded) for p in compiled):
            assert gate.fires(folded), text


def test_regex_gate_stays_shut_where_nothing_can_match() -> None:
    gate = RegexGate([regex_source(p) for p in ["👍", "спасибо\\s*большое", "f+u+c+k"]])
    assert not gate.fires("просто текст без всего")
    assert gate.fires("спасибо  большое")
    assert gate.fires("ok 👍")


def test_compile_any_keeps_back_references_apart() -> None:
    merged = compile_any(["abc", "d+e"])
    apart = compile_any([r"(\w)\1", "xyz"])
    assert len(merged) == 1 and merged[0].search("DDE")
    assert len(apart) == 2 and apart[0].search("aa") and not apart[0].search("ab")


def test_is_literal_only_for_caseless_symbols() -> None:
    assert is_literal("👍")
    assert not is_literal("abc")
    assert not is_literal("a.b")
    assert not is_literal("Ⓐ")  # has a case


def test_has_exceptions_tells_whether_exceptions_were_given() -> None:
    assert TermMatcher(["сук"], ["сукн"]).has_exceptions
    assert not TermMatcher(["сук"]).has_exceptions
