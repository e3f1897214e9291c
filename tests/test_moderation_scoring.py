"""Profanity checking and spam scoring: spec telegram-cli §4.6, ai.md §4.7, scenario 32.

Scores are asserted exactly: each rule's points are fixed by the spec (+30 per
category, +15 per suspicious URL, +10 emoji, +15 caps, +20 links, +10 currency, cap 100).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tgpilot.core.config.settings import ModerationSettings
from tgpilot.core.errors import EXIT_USAGE, ConfigError, UsageError
from tgpilot.services.moderation import (
    FiredRule,
    ProfanityChecker,
    SpamRule,
    SpamScorer,
)
from tgpilot.services.moderation.scoring import upper_case_share
from tgpilot.services.moderation.wordlists import load_profanity, load_spam

DEFAULTS = ModerationSettings()


def settings(**fields: object) -> ModerationSettings:
    return ModerationSettings.model_validate(fields)


@pytest.fixture(scope="module")
def scorer() -> SpamScorer:
    return SpamScorer.from_settings(DEFAULTS)


@pytest.fixture(scope="module")
def profanity() -> ProfanityChecker:
    return ProfanityChecker.from_settings(DEFAULTS)


def rules(scorer: SpamScorer, text: str) -> list[tuple[str, int]]:
    return [(str(rule.rule), rule.points) for rule in scorer.score(text).rules]


# --- scenario 32 ---------------------------------------------------------------------


def test_scenario_32_profanity_pattern_heck() -> None:
    checker = ProfanityChecker.from_settings(settings(profanity={"patterns": ["heck"]}))
    assert [m.text for m in checker.check("what the heck")] == ["heck"]
    assert checker.check("checked") == []
    assert checker.check("Normal text") == []
    assert checker.censor("What the HECK?") == "What the ***?"


def test_scenario_32_heck_is_not_bundled(profanity: ProfanityChecker) -> None:
    assert not profanity.contains("what the heck")
    assert "heck" not in load_profanity().terms


@pytest.mark.parametrize(
    ("text", "expected", "category"),
    [
        ("Register on the Bybit exchange and start trading with us", 30, "crypto"),
        ("Get a bonus up to 6000 USDT", 40, "crypto"),  # + currency
        ("t.me/example?start=ref123", 30, "referral_link"),
        ("Регистрируйся на бирже и получай", 30, "crypto"),
    ],
)
def test_scenario_32_spam_samples(
    scorer: SpamScorer, text: str, expected: int, category: str
) -> None:
    result = scorer.score(text)
    assert result.score == expected
    assert result.is_spam
    assert category in result.categories


def test_scenario_32_clean_text(scorer: SpamScorer) -> None:
    result = scorer.score("Hello, thanks!")
    assert (result.score, result.rules, result.is_spam) == (0, (), False)


def test_scenario_32_suspicious_urls(scorer: SpamScorer) -> None:
    assert scorer.is_suspicious_url("bit.ly/abc123")
    assert scorer.is_suspicious_url("https://example.xyz/promo")
    assert not scorer.is_suspicious_url("github.com")
    assert scorer.score("bit.ly/abc123").score == 15
    assert scorer.score("https://example.xyz/promo").score == 15
    assert scorer.score("github.com").score == 0
    assert rules(scorer, "see bit.ly/abc123") == [("suspicious_url", 15)]


# --- profanity -----------------------------------------------------------------------


def test_bundled_profanity(profanity: ProfanityChecker) -> None:
    found = profanity.check("Охуеть, заебал, сука! What the FUCK, bullshit")
    assert [m.text for m in found] == ["Охуеть", "заебал", "сука", "FUCK", "bullshit"]
    assert profanity.censor("ну ты мудак") == "ну ты ***"


@pytest.mark.parametrize(
    "text",
    [
        "Ты мудрый человек",
        "Мудрость приходит с годами",
        "Пальто из сукна, сукно хорошее",
        "Бляха-муха, опять дождь",
        "Сучок на дереве",
        "Скупой платит дважды",
        "Assess the class, classic cocktail in the cockpit",
        "Dickens wrote it; Scunthorpe is a town",
        "What the heck, checked",
    ],
)
def test_bundled_profanity_leaves_normal_words(profanity: ProfanityChecker, text: str) -> None:
    assert profanity.check(text) == []


def test_configured_exceptions_and_replacement() -> None:
    checker = ProfanityChecker.from_settings(
        settings(replacement="[censored]", profanity={"exceptions": ["=shit"]})
    )
    assert [m.text for m in checker.check("shit, shitty")] == ["shitty"]
    assert checker.censor("Oh shitty day") == "Oh [censored] day"


def test_invalid_configured_pattern_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError) as caught:
        ProfanityChecker.from_settings(settings(profanity={"patterns": ["re:("]}))
    assert "moderation.profanity.patterns" in caught.value.message
    assert "re:(" in caught.value.message
    assert caught.value.exit_code == EXIT_USAGE
    with pytest.raises(ConfigError, match=r"moderation\.spam\.patterns\.mine.*re:\[x"):
        SpamScorer.from_settings(settings(spam={"patterns": {"mine": ["re:[x"]}}))


# --- spam rules, one at a time -------------------------------------------------------


def test_each_category_scores_30(scorer: SpamScorer) -> None:
    samples = {
        "crypto": "Join the airdrop, free crypto for everyone",
        "mlm": "Пассивный доход для каждого",
        "get_rich_quick": "Easy money, no questions",
        "adult": "Эскорт услуги круглосуточно",
        "referral_link": "Жми t.me/somebot?start=abc",
        "urgent": "Only today! Click the link",
    }
    for category, text in samples.items():
        result = scorer.score(text)
        assert result.categories == (category,), text
        assert result.score == 30, text


def test_several_categories_add_up(scorer: SpamScorer) -> None:
    result = scorer.score("Passive income! Only today, click the link")
    assert result.categories == ("mlm", "urgent")
    assert result.score == 60
    hits = {hit.category: hit.matches for hit in result.category_hits}
    assert hits == {"mlm": ("Passive income",), "urgent": ("Only today", "click the link")}


def test_emoji_rule_counts_graphemes(scorer: SpamScorer) -> None:
    family = "👨\u200d👩\u200d👧\u200d👦"
    assert scorer.score("🔥" * 5).score == 0
    assert rules(scorer, "🔥" * 6) == [("emoji", 10)]
    assert scorer.score(family * 5).score == 0  # 5 graphemes, 35 code points
    assert scorer.score(family * 5 + "👍🏽").score == 10
    assert scorer.score("🇷🇺🇺🇸🇩🇪🇫🇷🇯🇵").score == 0  # 5 flags
    assert scorer.score("🇷🇺🇺🇸🇩🇪🇫🇷🇯🇵🇮🇹").score == 10


def test_caps_rule(scorer: SpamScorer) -> None:
    assert rules(scorer, "THIS IS A VERY LOUD MESSAGE") == [("caps", 15)]
    assert scorer.score("SHORT CAPS TEXT").score == 0  # 15 characters
    assert scorer.score("ABCDEFGHIJ abcdefghij").score == 0  # exactly 50 %
    assert scorer.score("ABCDEFGHIJK abcdefghij").score == 15
    assert scorer.score("ОЧЕНЬ ГРОМКОЕ СООБЩЕНИЕ 123").score == 15
    assert scorer.score("12345678901234567890 A!").score == 15  # only letters count
    assert upper_case_share("Ab12") == 0.5
    assert upper_case_share("1234") == 0.0


def test_links_rule(scorer: SpamScorer) -> None:
    assert scorer.score("github.com and python.org").score == 0
    assert rules(scorer, "github.com, python.org and https://docs.python.org/3/") == [("links", 20)]
    # Suspicious links score on top of the count.
    assert scorer.score("bit.ly/a bit.ly/b example.xyz/c").score == 15 * 3 + 20


@pytest.mark.parametrize(
    "text",
    ["It costs $5", "5 € only", "100 ₽", "10 USD", "pay 1000USDT", "500 руб.", "10 рублей"],
)
def test_currency_rule(scorer: SpamScorer, text: str) -> None:
    assert rules(scorer, text) == [("currency", 10)]


@pytest.mark.parametrize("text", ["3 рубашки", "I like Ruby", "European trip", "рубить дрова"])
def test_currency_rule_ignores_lookalikes(scorer: SpamScorer, text: str) -> None:
    assert scorer.score(text).score == 0


def test_score_is_capped_at_100(scorer: SpamScorer) -> None:
    text = (
        "ТОЛЬКО СЕГОДНЯ!!! Пассивный доход от 5000₽ в день 🔥🔥🔥🔥🔥🔥 "
        "переходи по ссылке bit.ly/x clck.ru/y t.me/bot?start=1"
    )
    result = scorer.score(text)
    assert result.score == 100
    assert result.uncapped == 30 * 4 + 15 * 2 + 10 + 20 + 10
    assert {rule.rule for rule in result.rules} == {
        SpamRule.CATEGORY,
        SpamRule.SUSPICIOUS_URL,
        SpamRule.EMOJI,
        SpamRule.LINKS,
        SpamRule.CURRENCY,
    }


# --- threshold, configuration, output ------------------------------------------------


def test_threshold_from_settings_and_override() -> None:
    strict = SpamScorer.from_settings(settings(spam_threshold=10))
    assert strict.score("100 ₽").is_spam
    lenient = SpamScorer.from_settings(settings(spam_threshold=10), threshold=50)
    assert not lenient.score("Get a bonus up to 6000 USDT").is_spam
    with pytest.raises(UsageError):
        SpamScorer.from_settings(DEFAULTS, threshold=0)


def test_near_threshold(scorer: SpamScorer) -> None:
    assert scorer.score("github.com").near_threshold() is False  # 0 vs 30
    assert scorer.score("bit.ly/abc123").near_threshold() is True  # 15 vs 30
    assert scorer.score("Get a bonus up to 6000 USDT").near_threshold() is True  # 40
    assert scorer.score("Passive income! Only today").near_threshold() is False  # 60


def test_configured_categories_extend_and_add() -> None:
    custom = SpamScorer.from_settings(
        settings(spam={"patterns": {"crypto": ["=hodl"], "casino": ["casino", "=слоты"]}})
    )
    assert custom.score("HODL forever").categories == ("crypto",)
    assert custom.score("Best casinos and слоты").categories == ("casino",)
    assert custom.score("Best casinos and слоты").score == 30
    assert custom.score("airdrop").categories == ("crypto",)  # bundled terms kept


def test_result_describes_itself(scorer: SpamScorer) -> None:
    result = scorer.score("Get a bonus up to 6000 USDT bit.ly/x")
    assert [rule.describe() for rule in result.rules] == [
        "category crypto +30",
        "suspicious_url bit.ly/x +15",
        "currency USDT +10",
    ]
    assert result.as_dict() == {
        "score": 55,
        "threshold": 30,
        "spam": True,
        "rules": [
            {"rule": "category", "points": 30, "detail": "crypto"},
            {"rule": "suspicious_url", "points": 15, "detail": "bit.ly/x"},
            {"rule": "currency", "points": 10, "detail": "USDT"},
        ],
        "categories": {"crypto": ["bonus up to"]},
    }
    assert FiredRule(SpamRule.CAPS, 15).describe() == "caps +15"


@pytest.mark.parametrize(
    "text",
    [
        "Hello, thanks!",
        "Привет! Завтра созвон в 11, ссылку пришлю позже.",
        "Check the docs at github.com/org/repo, please",
        "Курьер приедет после обеда, я рад",
        "The new release is out, see the changelog",
        "Кто-нибудь знает хорошую биржу труда в Казани?",
        "I sign up for the gym every January",
    ],
)
def test_ordinary_messages_score_low(
    scorer: SpamScorer, profanity: ProfanityChecker, text: str
) -> None:
    assert scorer.score(text).score < 30
    assert profanity.check(text) == []


# --- word lists ----------------------------------------------------------------------


def test_bundled_lists_load() -> None:
    spam = load_spam()
    assert set(spam.categories) == {
        "crypto",
        "mlm",
        "get_rich_quick",
        "adult",
        "referral_link",
        "urgent",
    }
    assert {"bit.ly", "clck.ru", "t.co", "goo.gl", "tinyurl.com"} <= spam.shorteners
    assert {"xyz", "top", "click", "loan", "win"} <= spam.cheap_tlds
    profanity = load_profanity()
    assert set(profanity.languages) == {"ru", "en"}
    assert {"мудр", "сукн"} <= set(profanity.exceptions)


def test_user_word_list_overrides_bundled(tmp_path: Path) -> None:
    (tmp_path / "spam.yml").write_text(
        "categories:\n  lottery:\n    - you won\nmoney: ['re:[$]']\nshorteners: [my.link]\n",
        encoding="utf-8",
    )
    custom = SpamScorer.from_settings(DEFAULTS, override_dir=tmp_path)
    assert custom.score("You won $5!").categories == ("lottery",)
    assert custom.score("You won $5!").score == 40
    assert custom.score("airdrop").score == 0  # bundled list replaced
    assert custom.is_suspicious_url("https://my.link/x")
    assert not custom.is_suspicious_url("bit.ly/x")
    (tmp_path / "profanity.yml").write_text("en: [heck]\n", encoding="utf-8")
    checker = ProfanityChecker.from_settings(DEFAULTS, override_dir=tmp_path)
    assert checker.contains("heck") and not checker.contains("fuck")


@pytest.mark.parametrize(
    "content",
    ["categories: [\n", "- a list\n", "categories:\n  x: notalist\n", "typo_key: []\n"],
)
def test_bad_override_is_a_config_error(tmp_path: Path, content: str) -> None:
    (tmp_path / "spam.yml").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        SpamScorer.from_settings(DEFAULTS, override_dir=tmp_path)
    assert str(tmp_path / "spam.yml") in caught.value.message
