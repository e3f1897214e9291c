"""The shared text matcher of spec ai.md §3 "Matching" and "Word lists".

Term syntax (`word` prefix at a word start, `=word`, `re:PATTERN`), folding (case,
`ё`→`е`, invisible characters), URL stripping, exceptions, censoring, link finding and
emoji counting by grapheme.
"""

from __future__ import annotations

import pytest

from tgpilot.core.errors import EXIT_USAGE, UsageError
from tgpilot.core.textmatch import (
    TermKind,
    TermMatcher,
    count_emoji,
    find_urls,
    fold,
    parse_term,
    prepare,
    strip_urls,
    url_host,
)


def words(terms: list[str], text: str, exceptions: list[str] | None = None) -> list[str]:
    return [match.text for match in TermMatcher(terms, exceptions or []).find(text)]


def test_prefix_term_matches_at_word_start_only() -> None:
    assert words(["курьер"], "Курьером доставят") == ["Курьером"]
    assert words(["курьер"], "скурьер пришёл") == []
    assert words(["курьер"], "вызвал курьера, а курьер не пришёл") == ["курьера", "курьер"]
    assert words(["heck"], "what the heck") == ["heck"]
    assert words(["heck"], "checked twice, Hecking around") == ["Hecking"]


def test_whole_word_terms() -> None:
    assert words(["=ai"], "AI-powered tools") == ["AI"]
    assert words(["=ai"], "send an email, she said; aim high") == []
    assert words(["=ии"], "Про ИИ и линии") == ["ИИ"]
    assert words(["=рад"], "радио, радость; я рад!") == ["рад"]
    assert words(["=как"], "какой-то, как так") == ["как"]
    assert words(["=heck"], "heck hecking") == ["heck"]


def test_word_characters_are_unicode_aware() -> None:
    # Digits, underscores and letters of any script are word characters.
    assert words(["=ai"], "ai2 _ai 2ai ai.") == ["ai"]
    assert words(["курьер"], "2курьер _курьер") == []
    assert words(["é"], "café élan") == ["élan"]


def test_folding_case_and_yo() -> None:
    assert fold("ЁЛКА Straße") == "елка strasse"
    assert words(["елка"], "Ёлка и ёлочка") == ["Ёлка"]
    assert words(["ёлоч"], "Ёлка и елочка") == ["елочка"]
    assert words(["=еще"], "Ещё раз") == ["Ещё"]
    assert words(["strasse"], "Die STRASSE, die Straße") == ["STRASSE", "Straße"]


def test_offsets_refer_to_the_original_text() -> None:
    decomposed = "x Е\u0308ж y"  # Ё as Е + combining diaeresis
    [match] = TermMatcher(["еж"]).find(decomposed)
    assert (match.start, match.end, match.text, match.folded) == (2, 5, "Е\u0308ж", "еж")
    hidden = "ну х\u200bуй"  # zero-width space inside the word
    [match] = TermMatcher(["хуй"]).find(hidden)
    assert match.text == "х\u200bуй"
    assert hidden[match.start : match.end] == match.text
    assert TermMatcher(["strasse"]).censor("Zur Straße!", "***") == "Zur ***!"


def test_urls_are_stripped_before_word_search() -> None:
    matcher = TermMatcher(["promo", "=github"])
    assert matcher.find("https://example.xyz/promo and github.com/x") == []
    assert [m.text for m in matcher.find("promo code on GitHub")] == ["promo", "GitHub"]
    # Regular expressions see the links.
    assert words(["re:t\\.me/\\w+\\?start="], "see t.me/example?start=ref123") == [
        "t.me/example?start="
    ]


def test_phrases_match_any_whitespace() -> None:
    assert words(["only today"], "ONLY\n  today!") == ["ONLY\n  today"]
    assert words(["only today"], "only for today") == []


def test_regex_terms() -> None:
    assert words(["re:h[e3]ck"], "H3CK off") == ["H3CK"]
    assert words(["re:\\d+\\s*usdt"], "get 500 USDT") == ["500 USDT"]
    assert words(["re:а*"], "ничего") == []  # empty matches are ignored


@pytest.mark.parametrize("bad", ["re:(", "re:[a-", "re:a{2,1}"])
def test_invalid_regex_is_a_usage_error_naming_it(bad: str) -> None:
    with pytest.raises(UsageError) as caught:
        TermMatcher(["fine", bad])
    assert bad in caught.value.message
    assert caught.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize("bad", ["", "=", "  ", "re:"])
def test_empty_terms_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_term(bad)


def test_parse_term() -> None:
    assert parse_term("Курьер").kind is TermKind.PREFIX
    assert parse_term("Курьер").key == "курьер"
    assert parse_term("=Ёж").key == "еж"
    assert parse_term("=Ёж").kind is TermKind.WORD
    assert parse_term("re:^x$").kind is TermKind.REGEX
    assert parse_term("only   today").key == "only today"


def test_exceptions_veto_matches_inside_them() -> None:
    stems = ["муд", "сук"]
    exceptions = ["мудр", "сукн"]
    text = "Мудрый мудрец купил сукно и сукна; мудак, сука"
    assert words(stems, text, exceptions) == ["мудак", "сука"]
    assert words(stems, text) == ["Мудрый", "мудрец", "сукно", "сукна", "мудак", "сука"]
    assert words(["heck"], "heck heckle", ["=heckle"]) == ["heck"]


def test_find_reports_the_term_that_matched() -> None:
    matcher = TermMatcher(["кур", "курьер", "=ai", "re:x+y"])
    found = matcher.find("Курьером, курами, AI, xxy")
    assert [(m.term, m.text) for m in found] == [
        ("курьер", "Курьером"),
        ("кур", "курами"),
        ("=ai", "AI"),
        ("re:x+y", "xxy"),
    ]


def test_overlapping_matches_are_reported_once() -> None:
    matcher = TermMatcher(["bonus", "bonus up to", "re:up to \\d+"])
    assert [m.text for m in matcher.find("bonus up to 6000")] == ["bonus up to"]


def test_contains_and_censor() -> None:
    matcher = TermMatcher(["курьер", "=heck"])
    assert matcher.contains("Курьер приехал")
    assert not matcher.contains("скурьер, checked")
    assert not TermMatcher([]).contains("anything")
    assert matcher.censor("Курьером? Heck, heck!") == "***? ***, ***!"
    assert matcher.censor("heck", "[x]") == "[x]"
    assert matcher.censor("nothing here") == "nothing here"


def test_many_terms_compile_into_one_matcher() -> None:
    vocabulary = [f"слово{n}" for n in range(3000)] + [f"=w{n}x" for n in range(3000)]
    matcher = TermMatcher(vocabulary)
    found = matcher.find("Слово2999ого w17x w17xx слово")
    assert [(m.term, m.text) for m in found] == [("слово2999", "Слово2999ого"), ("=w17x", "w17x")]


def test_prepared_text_is_reusable() -> None:
    prepared = prepare("Курьер и heck")
    assert TermMatcher(["курьер"]).contains(prepared)
    assert TermMatcher(["heck"]).contains(prepared)
    assert prepare(prepared) is prepared


def test_find_urls() -> None:
    text = (
        "Go to https://example.xyz/promo, bit.ly/abc123 and github.com. "
        "Mail a@mail.ru; run setup.py, read README.md, call button.click(); "
        "t.me/example?start=ref123 www.example.org/x example.abc/x "
        "(https://en.wikipedia.org/wiki/Foo_(bar)) сайт.рф"
    )
    assert find_urls(text) == [
        "https://example.xyz/promo",
        "bit.ly/abc123",
        "github.com",
        "t.me/example?start=ref123",
        "www.example.org/x",
        "example.abc/x",
        "https://en.wikipedia.org/wiki/Foo_(bar)",
        "сайт.рф",
    ]
    assert find_urls("Hello, thanks! e.g. i.e. v1.2.3") == []


def test_strip_urls_and_url_host() -> None:
    assert strip_urls("see https://x.com/a?b=c. ok?") == "see  . ok?"
    assert url_host("https://WWW.Example.XYZ:8080/promo") == "example.xyz"
    assert url_host("bit.ly/abc123") == "bit.ly"
    assert url_host("t.me/example?start=ref123") == "t.me"


def test_count_emoji_counts_graphemes() -> None:
    family = "👨\u200d👩\u200d👧\u200d👦"
    assert count_emoji(family) == 1
    assert count_emoji("🇷🇺🇺🇸") == 2  # flags: two code points each
    assert count_emoji("1️⃣ 👍🏽 ❤️") == 3  # keycap, skin tone, emoji selector
    assert count_emoji("🔥" * 6) == 6
    assert count_emoji("© ™ ® plain text 123 #") == 0
    assert count_emoji(family * 5 + "🇷🇺") == 6
