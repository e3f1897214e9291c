"""The one-pass local analysis (spec ai.md §4.1, §5): the text scanner answers what the
lexicons answer, and the streamed analysis — from the archive as lean rows, or from any
source message by message — gives the metrics the kept-messages analysis gives."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import regex

from tests.analyze_fixtures import FROZEN_NOW, chat20_export, write_export
from tgpilot.core.config.settings import ModerationSettings, ProfanitySettings
from tgpilot.core.textmatch import TermMatcher, prepare
from tgpilot.models import Chat, ChatType, Message, Reaction, Sender
from tgpilot.services.ai.analyze import ChatAnalysis, Lexicons, Selection, analyze_locally
from tgpilot.services.ai.analyze.lexicon import SentimentLexicon, TopicLexicon
from tgpilot.services.ai.analyze.scan import _SURELY_NOT_WORD, _SURELY_WORD, TextScanner, _fold
from tgpilot.services.archive.source import ArchiveSource
from tgpilot.services.sources import DesktopExportSource, MessageWindow
from tgpilot.store import Store
from tgpilot.store.records import ChatRecord

PIECES = [
    # words the lists know, inflected, cased, with ё, or cut short or glued on
    "работу", "Работа", "заработок", "зарплата", "AI", "ai", "email", "said", "ИИ", "линии",
    "нейросеть", "machine learning", "machine\n learning", "Machine", "искусственный  интеллект",
    "программирование", "программа", "код", "кодекс", "=код", "книгу", "прочитал", "чай",
    "чайник", "спасибо", "Спасибо!", "отлично", "хорошо", "класс", "классно", "рад", "радио",
    "рада", "круто", "крутой", "thanks", "GOOD", "good-bye", "goodness", "love", "loved",
    "плохо", "ужас", "проблема", "жаль", "bad", "badge", "failed", "fail", "ёлка", "всё",
    "блять", "хуйня", "пиздец", "Fuck", "shit", "shitake", "мудрый", "мудак", "сукно", "сука",
    "ass", "class", "dick", "Dickens", "cocktail",
    # emoji markers, glued or not
    "👍", "👎", "🔥", "❤️", "😢", "спасибо👍", "👍спасибо", "плохо😢",
    # links hiding words, and what is not a link
    "https://hh.ru/работа", "bit.ly/сука", "example.com:80работа", "www.книги.рф/1",
    "setup.py", "t.me/club?start=спасибо", "ok.Спасибо",
    # characters at the edges of what a word is
    "ра\u00adбота", "х\u200bуй", "²работа", "αработа", "работа²", "e\u0301работа", "_работа",
    "работа_", "ßtraße", "İstanbul", "1работа", "№работа", "«работа»", "(спасибо)",
    "-работа", "работа-", "\u00a0работа", "работа\u00a0", "café", "naïve", "🙂работа",
    # plain words
    "мы", "сегодня", "the", "and", "", "?", "...", ",", "\t",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", ", ", ". ", "\n", "", "-", "_", "/", "…", "\u0301", "²", "α"]


def random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = [rng.choice(PIECES) for _ in range(rng.randint(1, 8))]
        texts.append("".join(p + rng.choice(SEPARATORS) for p in parts))
    return texts


def expected(lexicons: Lexicons, text: str) -> tuple[tuple[str, ...], float, bool]:
    prepared = prepare(text)
    return (
        tuple(lexicons.topics.topics_of(prepared)),
        lexicons.sentiment.score(prepared),
        lexicons.profanity.contains(prepared),
    )


@pytest.fixture(scope="module")
def lexicons() -> Lexicons:
    return Lexicons.load()


def test_folding_is_prepares_without_the_link_search() -> None:
    for text in [*PIECES, *random_texts(500, 7)]:
        folded, words, prepared = _fold(text)
        reference = prepare(text)
        assert (folded, words) == (reference.folded, reference.words), text
        assert prepared is None or prepared == reference


def test_scanner_answers_what_the_lexicons_answer(lexicons: Lexicons) -> None:
    scanner = TextScanner(lexicons)
    for text in [*PIECES, *random_texts(4000, 1)]:
        assert scanner.scan(text) == expected(lexicons, text), repr(text)


def test_scanner_with_lists_it_cannot_read_off(lexicons: Lexicons) -> None:
    """Phrases, exceptions on sentiment, a term starting with punctuation, ``re:`` terms
    with groups and back-references: the scanner runs those matchers itself."""
    odd = Lexicons(
        topics=TopicLexicon(
            (
                ("hashtags", TermMatcher(["#tag", "=c++"])),
                ("phrases", TermMatcher(["machine learning", "=only today", "работ"])),
                ("regexes", TermMatcher([r"re:(\w)\1", r"re:(?P<x>ка)(?P=x)", "re:да+"])),
                ("phrased", TermMatcher([r"re:Hello\s+wor(ld|k)", "re:Ⓐ", "re:ab{e<=1}"])),
                ("plain", TermMatcher(["работ", "=ai", "книг"])),
            )
        ),
        sentiment=SentimentLexicon(
            positive=TermMatcher(["спасибо", "хорош", "re:👍", "re:спаси"], ["хорошист"]),
            negative=TermMatcher(["плох", "=жаль", "re:\\bпло", "re:💩", "re:💩💩"]),
        ),
        profanity=lexicons.profanity,
    )
    scanner = TextScanner(odd)
    extra = ["#tag", "c++", "only  today", "aa", "кака", "дааа", "хорошист", "спасибо👍"]
    extra += ["hello  world", "HELLO work", "ⓐ", "Ⓐ", "ab", "ax", "xb", "💩💩💩", "плохо💩"]
    pieces = [*PIECES, *extra]
    rng = random.Random(3)
    texts = [" ".join(rng.choice(pieces) for _ in range(rng.randint(1, 6))) for _ in range(3000)]
    for text in [*pieces, *texts]:
        assert scanner.scan(text) == expected(odd, text), repr(text)


def test_scanner_with_overlapping_symbol_markers(lexicons: Lexicons) -> None:
    """Emoji markers one inside another (❤ in ❤️❤️) are counted by the whole matcher."""
    odd = Lexicons(
        topics=lexicons.topics,
        sentiment=SentimentLexicon(
            positive=TermMatcher(["спасибо", "re:❤", "re:❤❤", "re:🔥"]),
            negative=TermMatcher(["плох", "re:👎"]),
        ),
        profanity=lexicons.profanity,
    )
    scanner = TextScanner(odd)
    for text in ["❤❤", "❤ ❤", "спасибо ❤❤🔥", "❤️❤️", "🔥🔥", "плохо 👎❤", *PIECES]:
        assert scanner.scan(text) == expected(odd, text), repr(text)


def test_scanner_with_configured_profanity_patterns() -> None:
    settings = ModerationSettings(
        profanity=ProfanitySettings(patterns=["re:f+u+c+k", "дурак"], exceptions=["дураки"])
    )
    lexicons = Lexicons.load(settings)
    scanner = TextScanner(lexicons)
    for text in ["ffuuck", "дурак", "дураки", "не дурак, а дураки", "мудрый", *PIECES]:
        assert scanner.scan(text) == expected(lexicons, text), repr(text)


# --------------------------------------------------------------------------- streaming

CHAT = Chat(id=-1_001_234, raw_id=1_234, type=ChatType.SUPERGROUP, title="Stream Club")
PEOPLE = [
    Sender(11, "Anna"),
    Sender(12, "Boris"),
    Sender(13, "", username="vera"),
    Sender(14, "  "),
    Sender(15, "Gleb", is_bot=True),
    Sender(777000, "Telegram"),
]


def chat_messages(count: int, seed: int = 5) -> list[Message]:
    rng = random.Random(seed)
    start = datetime(2024, 3, 30, 20, 0, tzinfo=UTC)  # across a DST change in Berlin
    texts = random_texts(count, seed)
    found = []
    for n, text in enumerate(texts, start=1):
        roll = rng.random()
        found.append(
            Message(
                chat_id=CHAT.id,
                id=n,
                date=start + timedelta(minutes=17 * n + rng.randint(0, 5)),
                text="" if roll < 0.05 else text,
                sender=rng.choice(PEOPLE),
                media_type="photo" if roll < 0.15 else None,
                reactions=(Reaction("emoji", rng.randint(1, 5), emoji="👍"),) if roll > 0.7 else (),
                is_service=0.95 < roll < 0.97,
            )
        )
    return found


async def open_archive(url: str, count: int = 600) -> ArchiveSource:
    store = await Store.open(url)
    await store.upsert_chats([ChatRecord.from_chat(CHAT)])
    await store.upsert_messages(chat_messages(count), fetched_at=FROZEN_NOW)
    return ArchiveSource(store)


@pytest.fixture
async def archive(tmp_path: Path) -> ArchiveSource:
    return await open_archive(f"sqlite:///{tmp_path / 'archive.db'}")


async def both_ways(
    archive: ArchiveSource, lexicons: Lexicons, limit: int, selection: Selection
) -> tuple[ChatAnalysis, ChatAnalysis]:
    """The analysis keeping the messages, then the streamed one (the store closed after)."""
    tz = ZoneInfo("Europe/Berlin")
    since = datetime(2024, 3, 31, tzinfo=UTC)
    results = []
    try:
        for keep in (True, False):
            results.append(
                await analyze_locally(
                    CHAT, archive, window=MessageWindow(since=since, limit=limit),
                    selection=selection, lexicons=lexicons, tz=tz, now=FROZEN_NOW,
                    source_label="store", keep_messages=keep,
                )
            )  # fmt: skip
    finally:
        await archive.store.close()
    return results[0], results[1]


@pytest.mark.parametrize("limit", [0, 50])
@pytest.mark.parametrize(
    "selection",
    [Selection(), Selection(min_length=0, include_bots=True, include_media=True)],
)
async def test_streamed_archive_analysis_equals_the_kept_messages_one(
    archive: ArchiveSource, lexicons: Lexicons, limit: int, selection: Selection
) -> None:
    kept, streamed = await both_ways(archive, lexicons, limit, selection)
    assert streamed.messages == () and kept.messages
    assert streamed.metrics == kept.metrics
    assert (streamed.kept, streamed.scanned) == (len(kept.messages), kept.scanned)
    assert streamed.report == kept.report
    assert streamed.metrics.total_messages == (limit or streamed.metrics.total_messages)


@pytest.mark.parametrize("limit", [0, 50])
async def test_streamed_analysis_on_every_backend(
    store_url: str, lexicons: Lexicons, limit: int
) -> None:
    """Through the engine (MariaDB, PostgreSQL) as through SQLite's own driver."""
    archive = await open_archive(store_url, 300)
    kept, streamed = await both_ways(archive, lexicons, limit, Selection())
    assert streamed.metrics == kept.metrics and streamed.scanned == kept.scanned


async def test_streamed_analysis_of_an_in_memory_store(lexicons: Lexicons) -> None:
    archive = await open_archive("sqlite://", 300)
    kept, streamed = await both_ways(archive, lexicons, 0, Selection())
    assert streamed.metrics == kept.metrics and streamed.kept > 0


async def test_streamed_export_analysis_equals_the_kept_messages_one(
    tmp_path: Path, lexicons: Lexicons
) -> None:
    source = await DesktopExportSource.open(write_export(tmp_path / "c", chat20_export()), tz=UTC)
    [chat] = source.chats
    kept, streamed = [
        await analyze_locally(
            chat, source, window=MessageWindow(), selection=Selection(), lexicons=lexicons,
            tz=UTC, now=FROZEN_NOW, source_label="chat20", keep_messages=keep,
        )
        for keep in (True, False)
    ]  # fmt: skip
    assert streamed.metrics == kept.metrics and streamed.metrics.total_messages == 15
    assert streamed.messages == () and streamed.kept == 15 and not streamed.empty


async def test_streamed_analysis_of_an_empty_window_is_empty(
    archive: ArchiveSource, lexicons: Lexicons
) -> None:
    try:
        result = await analyze_locally(
            CHAT, archive, window=MessageWindow(since=FROZEN_NOW + timedelta(days=400)),
            selection=Selection(), lexicons=lexicons, tz=UTC, now=FROZEN_NOW,
            source_label="store", keep_messages=False,
        )  # fmt: skip
    finally:
        await archive.store.close()
    assert result.empty and result.scanned == 0 and result.metrics.busiest_hour is None


def test_the_characters_the_scanner_is_sure_of() -> None:
    """What the fast gate takes for sure word and non-word characters, the matchers do."""
    word = regex.compile(r"\w")
    assert all(word.match(char) for char in _SURELY_WORD)
    assert not any(word.match(char) for char in _SURELY_NOT_WORD)
    assert {" ", ",", ".", "«", "—", "\n"} <= _SURELY_NOT_WORD
    assert {"a", "я", "ё", "é", "7", "_"} <= _SURELY_WORD


def test_scanner_forgets_pieces_when_its_memory_is_full(
    lexicons: Lexicons, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tgpilot.services.ai.analyze.scan.TOKEN_CACHE", 8)
    scanner = TextScanner(lexicons)
    for text in random_texts(300, 11):
        assert scanner.scan(text) == expected(lexicons, text), repr(text)
    assert len(scanner._tokens) <= 8
