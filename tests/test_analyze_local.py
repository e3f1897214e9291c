"""Local analysis pieces (spec ai.md §3, §4.1, §5; scenarios 8, 9, 14, 23): the source
abstraction and windows, selection, names, lexicon topics and sentiment, metrics,
prompt input, and the Markdown form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.analyze_fixtures import FROZEN_NOW, chat20_export, write_export
from tgpilot.core.errors import ConfigError, UsageError
from tgpilot.models import Chat, ChatType, Message, Reaction, Sender
from tgpilot.services.ai.analyze import (
    Lexicons,
    Selection,
    analyze_locally,
    compute_metrics,
    display_name,
    format_messages,
    message_line,
    prompt_metadata,
)
from tgpilot.services.ai.analyze.charts import activity_chart, nice_step
from tgpilot.services.ai.analyze.lexicon import load_sentiment, load_topics
from tgpilot.services.ai.analyze.markdown import participants_text, render_markdown
from tgpilot.services.ai.analyze.report import Discussion, Scope, local_report
from tgpilot.services.sources import (
    DesktopExportSource,
    MessageWindow,
    SourceKind,
    message_window,
    parse_bound,
    parse_source,
    read_window,
)

ANNA = Sender(101, "Anna")
CHAT = Chat(id=-1001, raw_id=1, type=ChatType.SUPERGROUP, title="Team")


@pytest.fixture(scope="module")
def lexicons() -> Lexicons:
    return Lexicons.load()


@pytest.fixture
async def chat20(tmp_path: Path) -> tuple[DesktopExportSource, Chat]:
    source = await DesktopExportSource.open(
        write_export(tmp_path / "chat20", chat20_export()), tz=UTC
    )
    [chat] = source.chats
    return source, chat


def text_message(id: int, when: datetime, text: str, **fields: object) -> Message:
    return Message(chat_id=CHAT.id, id=id, date=when, text=text, sender=ANNA, **fields)


# --------------------------------------------------------------------------- scenario 23


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("ищу работу", ["work"]),
        ("технологии и AI", ["tech", "ai"]),
        ("скачал программу", ["programming"]),
        ("send email, he said", []),
    ],
)
def test_scenario_23_topics(text: str, topics: list[str]) -> None:
    assert load_topics().topics_of(text) == topics


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("спасибо, отлично 👍", 0.6),
        ("спасибо отлично супер прекрасно замечательно 👏", 1.0),
        ("слушаю радио", 0.0),
        ("рад, рад, рад", 0.2),
        ("ужасно, всё сломалось, одни проблемы", -0.6),
    ],
)
def test_scenario_23_sentiment(text: str, score: float) -> None:
    assert load_sentiment().score(text) == score


def test_word_list_overrides_are_read_and_checked(tmp_path: Path) -> None:
    (tmp_path / "topics.yml").write_text("topics:\n  garden: [огород, =rose]\n", "utf-8")
    assert load_topics(tmp_path).topics_of("Roses and огородные дела") == ["garden"]
    assert load_topics(tmp_path).topics_of("a rose") == ["garden"]
    (tmp_path / "sentiment.yml").write_text("positive: ['re:(']\n", "utf-8")
    with pytest.raises(ConfigError, match=r"sentiment\.yml: positive"):
        load_sentiment(tmp_path)
    (tmp_path / "topics.yml").write_text("themes: {}\n", "utf-8")
    with pytest.raises(ConfigError, match="unknown key"):
        load_topics(tmp_path)


# --------------------------------------------------------------------------- scenario 9


def test_scenario_9_prompt_lines() -> None:
    media = text_message(
        7, datetime(2024, 1, 1, 12, 0, tzinfo=UTC), "Фото с\nвстречи",
        media_type="photo", reactions=(Reaction("emoji", 2, "👍"), Reaction("paid", 1)),
    )  # fmt: skip
    assert (
        message_line(media, UTC) == "[01.01.2024 12:00] Anna: Фото с встречи [3 reactions] [media]"
    )
    only_media = replace(media, text="", reactions=())
    assert message_line(only_media, UTC) == "[01.01.2024 12:00] Anna: [media]"
    nobody = replace(media, sender=None, media_type=None, reactions=())
    assert message_line(nobody, ZoneInfo("Europe/Moscow")) == (
        "[01.01.2024 15:00] Unknown sender: Фото с встречи"
    )


# --------------------------------------------------------------------------- scenario 8


async def test_scenario_8_media_only_lines_end_with_media(
    chat20: tuple[DesktopExportSource, Chat], lexicons: Lexicons
) -> None:
    source, chat = chat20
    result = await analyze_locally(
        chat, source, window=MessageWindow(), lexicons=lexicons, tz=UTC, now=FROZEN_NOW,
        selection=Selection(include_bots=True, include_media=True), source_label="chat20",
    )  # fmt: skip
    assert result.metrics.total_messages == 19
    assert result.metrics.media_percent == 26.3
    lines = format_messages(result.messages, UTC).splitlines()
    assert len(lines) == 19
    assert [line for line in lines if line.endswith(": [media]")] == [
        "[01.03.2024 15:00] Anna: [media]",
        "[03.03.2024 10:00] Vera: [media]",
    ]
    assert lines[1] == (
        "[01.03.2024 09:30] Boris: Спасибо, отличный план, я возьму задачи по бюджету [7 reactions]"
    )
    assert lines[0].startswith("[01.03.2024 09:00] Anna: Доброе утро!")


async def test_chat20_metrics_in_full(
    chat20: tuple[DesktopExportSource, Chat], lexicons: Lexicons
) -> None:
    source, chat = chat20
    result = await analyze_locally(
        chat, source, window=MessageWindow(), selection=Selection(), lexicons=lexicons,
        tz=UTC, now=FROZEN_NOW, source_label="chat20",
    )  # fmt: skip
    m = result.metrics
    assert (m.total_messages, m.unique_senders, m.total_reactions) == (15, 3, 12)
    assert [(s.name, s.messages, s.chars) for s in m.senders] == [
        ("Anna", 7, 340),
        ("Boris", 5, 240),
        ("Vera", 3, 140),
    ]
    assert (m.average_length, m.media_messages, m.media_percent) == (48.0, 3, 20.0)
    assert (m.days, m.messages_per_day) == (3, 5.0)
    assert sum(m.by_hour) == 15 and len(m.by_hour) == 24
    assert [(d.isoformat(), n) for d, n in m.by_day] == [
        ("2024-03-01", 5),
        ("2024-03-02", 6),
        ("2024-03-03", 4),
    ]
    assert m.busiest_hour == 9 and m.busiest_hour_messages == 4
    assert [(t.name, t.mentions) for t in m.topics] == [
        ("work", 3), ("money", 3), ("tech", 3), ("programming", 3), ("meetings", 3), ("ai", 2),
    ]  # fmt: skip
    assert m.topics[0].message_ids == (1, 5, 18)
    assert (m.sentiment.score, m.sentiment.label) == (0.24, "positive")
    assert m.sentiment.positive == 4 and m.sentiment.negative == 1
    assert m.profane_messages == 0 and m.profanity_percent == 0.0
    assert [(r.sender, r.reactions) for r in m.top_reacted] == [("Boris", 7), ("Vera", 5)]
    assert result.scanned == 20
    assert prompt_metadata(m, UTC) == {
        "total_messages": 15,
        "date_range": {"start": "2024-03-01T09:00:00Z", "end": "2024-03-03T18:00:00Z"},
        "unique_senders": 3,
        "has_media": True,
        "total_reactions": 12,
    }
    assert result.report.summary.startswith(
        "15 messages from 3 participants from 01.03.2024 to 03.03.2024 (5.0 per day)."
    )


def test_empty_metrics_are_zeros(lexicons: Lexicons) -> None:
    m = compute_metrics([], tz=UTC, lexicons=lexicons)
    assert (m.total_messages, m.media_percent, m.messages_per_day, m.days) == (0, 0.0, 0.0, 0)
    assert m.busiest_hour is None and m.busiest_hour_messages == 0


def test_profanity_rate_uses_the_moderation_checker(lexicons: Lexicons) -> None:
    now = FROZEN_NOW
    messages = [
        text_message(1, now, "это полный пиздец, коллеги"),
        text_message(2, now, "мудрый совет от коллеги"),
        text_message(3, now, "сукно для стола купили"),
        text_message(4, now, "обычное сообщение без мата"),
    ]
    metrics = compute_metrics(messages, tz=UTC, lexicons=lexicons)
    assert (metrics.profane_messages, metrics.profanity_percent) == (1, 25.0)


# --------------------------------------------------------------------------- selection, names


def test_selection_rules() -> None:
    now = FROZEN_NOW
    bot = Sender(900, "Helper", "helper_bot", is_bot=True)
    service = Sender(777000, "Telegram")
    short = text_message(1, now, "ок")
    long = text_message(2, now, "  long enough text  ")
    from_bot = replace(long, sender=bot)
    notice = replace(long, sender=service)
    media = replace(short, media_type="photo")
    event = replace(long, is_service=True)
    default = Selection()
    assert [default.keeps(m) for m in (short, long, from_bot, notice, media, event)] == [
        False, True, False, False, False, False,
    ]  # fmt: skip
    everything = Selection(min_length=0, include_bots=True, include_media=True)
    assert [everything.keeps(m) for m in (short, from_bot, notice, media, event)] == [
        True, True, True, True, False,
    ]  # fmt: skip
    assert Selection(min_length=16).keeps(long)  # 16 characters once stripped
    assert not Selection(min_length=17).keeps(long)
    with pytest.raises(UsageError):
        Selection(min_length=-1)


def test_display_names() -> None:
    assert display_name(Sender(1, "Anna Smirnova", "anna")) == "Anna Smirnova"
    assert display_name(Sender(2, "", "boris")) == "@boris"
    assert display_name(Sender(3, "")) == "User 3"
    assert display_name(None) == "Unknown sender"


# --------------------------------------------------------------------------- windows


def test_windows_and_bounds() -> None:
    now = FROZEN_NOW
    tz = ZoneInfo("Europe/Moscow")
    assert message_window(now, tz=tz, default_days=30).since == now - timedelta(days=30)
    assert message_window(now, days=0, tz=tz, default_days=30).since is None
    assert message_window(now, hours=6, tz=tz).since == now - timedelta(hours=6)
    window = message_window(now, since="2024-03-01", until="1d", tz=tz, limit=5)
    assert window.since == datetime(2024, 3, 1, tzinfo=tz)
    assert window.until == now - timedelta(days=1)
    assert window.limit == 5
    assert parse_bound("7d", now=now, tz=tz, option="--since") == now - timedelta(days=7)
    assert parse_bound("2024-03-01T10:00Z", now=now, tz=tz, option="--since") == datetime(
        2024, 3, 1, 10, tzinfo=UTC
    )
    for bad in (
        {"days": 1, "since": "2d"},
        {"days": -1},
        {"since": "soon"},
        {"since": "1d", "until": "2d"},
        {"limit": -1},
    ):
        with pytest.raises(UsageError):
            message_window(now, tz=tz, **bad)


class Newest:
    """A message source over a list (newest first), counting what was read."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = sorted(messages, key=lambda m: m.date, reverse=True)
        self.read = 0

    async def history(
        self,
        chat: Chat,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Message]:
        for message in self.messages:
            self.read += 1
            yield message


async def test_the_limit_counts_kept_messages_and_output_is_chronological() -> None:
    start = FROZEN_NOW - timedelta(hours=10)
    messages = [
        text_message(i, start + timedelta(hours=i), "long enough text" if i % 2 else "no")
        for i in range(10)
    ]
    source = Newest(messages)
    read = await read_window(source, CHAT, MessageWindow(limit=3), Selection().keeps)
    assert [m.id for m in read.messages] == [5, 7, 9]
    assert read.scanned == source.read == 5  # stopped once 3 were kept


def test_sources_parse(tmp_path: Path) -> None:
    assert parse_source("telegram").kind is SourceKind.TELEGRAM
    assert parse_source("store").kind is SourceKind.STORE
    export = write_export(tmp_path / "x", chat20_export())
    spec = parse_source(str(export.parent))
    assert spec.kind is SourceKind.EXPORT and spec.label == str(export.parent)
    with pytest.raises(UsageError):
        parse_source(str(tmp_path / "nope"))


async def test_export_source_windows_and_limits(chat20: tuple[DesktopExportSource, Chat]) -> None:
    source, chat = chat20
    assert chat.title == "chat20" and chat.type is ChatType.SUPERGROUP
    newest = [m.id async for m in source.history(chat, limit=3)]
    assert newest == [20, 19, 18]
    day2 = [
        m.id
        async for m in source.history(
            chat, since=datetime(2024, 3, 2, tzinfo=UTC), until=datetime(2024, 3, 3, tzinfo=UTC)
        )
    ]
    assert day2 == list(range(15, 8, -1))
    bots = [m async for m in source.history(chat) if m.sender and m.sender.is_bot]
    assert [m.id for m in bots] == [13, 3]


# --------------------------------------------------------------------------- markdown, charts


def test_markdown_blocks_and_participant_lists(lexicons: Lexicons) -> None:
    now = FROZEN_NOW
    odd = replace(text_message(1, now, "long enough text"), sender=Sender(5, "*bold* [x](y) <b>"))
    metrics = compute_metrics([odd], tz=UTC, lexicons=lexicons)
    report = local_report(CHAT, metrics, analyzed_at=now, scope=Scope("store"), tz=UTC)
    names = tuple(f"P{i}" for i in range(12))
    report = replace(
        report,
        discussions=(Discussion("Release", now, names, 30, "Shipped."),),
        insights=("# not a heading",),
    )
    text = render_markdown(report, UTC)
    assert "## Discussions" in text and "### Release (10.03.2024)" in text
    assert "Participants: P0, P1, P2, P3, P4, P5, P6, P7, P8, P9 (+2 more) · 30 messages" in text
    assert "- \\# not a heading" in text
    assert "- **\\*bold\\* \\[x\\](y) \\<b\\>** — 1 message (engagement: 5.0/10)" in text
    assert "## Recommendations" not in text and "## Topics" not in text
    assert participants_text(("a", "b")) == "a, b"


def test_chart_steps_and_long_periods(lexicons: Lexicons) -> None:
    assert [nice_step(n) for n in (1, 4, 5, 9, 40, 41, 295, 5000)] == [
        1,
        1,
        2,
        5,
        10,
        20,
        100,
        2000,
    ]
    start = FROZEN_NOW - timedelta(days=400)
    messages = [text_message(i, start + timedelta(days=i), "long enough text") for i in range(400)]
    unit, chart = activity_chart(compute_metrics(messages, tz=UTC, lexicons=lexicons))
    assert unit == "week" and 57 <= len(chart.columns) <= 59
    assert sum(1 for c in chart.columns if c.peak) >= 1


def test_desktop_exports_mark_bots_by_their_keyboards_and_bot_chats() -> None:
    from tgpilot.services.desktop_import.messages import message_from_desktop

    group = Chat(id=-1001, raw_id=1, type=ChatType.SUPERGROUP, title="Team")
    bot_chat = Chat(id=900, raw_id=900, type=ChatType.BOT, title="Helper")
    base = {"id": 1, "type": "message", "date_unixtime": "1709283600", "text": "hello there"}
    keyboard = [[{"type": "callback", "text": "Go", "data": "eA=="}]]

    def is_bot(chat: Chat, **fields: object) -> bool:
        imported = message_from_desktop({**base, **fields}, chat, tz=UTC)
        assert imported is not None and imported.message.sender is not None
        return imported.message.sender.is_bot

    assert is_bot(group, from_id="user900", inline_bot_buttons=keyboard)
    assert not is_bot(group, from_id="user101", inline_bot_buttons=keyboard, via_bot="@gif")
    assert not is_bot(group, from_id="user101")
    assert is_bot(bot_chat, from_id="user900")
    assert not is_bot(bot_chat, from_id="user101")
