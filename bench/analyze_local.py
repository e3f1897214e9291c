"""Benchmark local ``tgpilot analyze`` over an archive against the same metrics in pandas.

    uv run python bench/analyze_local.py [--messages N | --tiny] [--repeat R] [--tz ZONE]
                                         [--cli-check] [--cache DIR] [--out FILE]

An archive (SQLite store) of one busy supergroup with N messages (default 1,000,000;
``--tiny``: 5,000) is written once through the Store API and cached under
``bench/out/analyze_local/`` keyed by N (and :data:`GENERATION`): a year of Russian and
English chat from 38 people and a bot, common words and a long tail of rarer ones (as a
real chat's vocabulary has), topic words, sentiment markers and emoji, near misses the
word lists must not take ("заработок", "email", "радио"), links (one with a topic word
inside), a little profanity and its listed exceptions, captioned and bare media, short
replies, service messages and reactions on about a fifth.

Both sides compute the local metrics of spec ai.md §4.1 over the same rows, each in a
fresh interpreter of its own (so its peak RSS is its own: the kernel's ``VmHWM``, as
``ru_maxrss`` of an exec'd child still holds its parent's high-water mark), R times,
alternating which goes first; imports are not timed on either side:

- **tgpilot** — what ``tgpilot analyze CHAT --source store --provider local --limit 0
  --days 0`` computes: the configuration, the store, the chat resolver, the word lists
  and :func:`~tgpilot.services.ai.analyze.analyze_locally` as the CLI calls them, with
  ``keep_messages=False`` (metrics only, streamed from the store), up to the JSON
  report's ``activity_metrics``;
- **pandas** — a straightforward pandas implementation of the same figures:
  ``pd.read_sql`` of the same rows (same join, same order) from the same file through
  ``sqlite3``; the selection (no service messages, no bots, at least 10 characters of
  stripped text) as boolean masks; ``groupby`` per sender; ``value_counts`` per hour
  and per day after ``tz_convert``; ``str.casefold`` and one ``str.replace`` of
  tgpilot's link pattern; for each topic one ``str.contains`` of a regex equivalent to
  its terms (prefix terms at a word start, ``=word`` terms whole, ``re:`` terms as
  written); for sentiment one ``str.extractall`` per side, distinct markers counted
  with ``groupby().nunique()``; profanity one ``str.contains`` with the exceptions as a
  negative lookahead; ``sort_values().head()`` for key and most reacted messages.
  (It skips what this chat does not need — NFC normalisation and zero-width
  characters — which only favours pandas.)

The figures of both must be equal (totals, senders with their counts, characters and
reactions, hours, days, media, dates, topics with scores and key messages, sentiment,
profanity, most reacted); a difference is a problem. ``--cli-check`` (on with
``--tiny``) also runs the real CLI in-process on the same archive and requires its JSON
report's ``activity_metrics`` to equal tgpilot's side.

Figures: seconds (median of R), peak RSS in MB and the RSS right before the work (after
imports) for each side; ``ratios.pandas_vs_tgpilot`` = pandas seconds / tgpilot
seconds, against the target 2.0 (issue #5). Prints one JSON document; exits 1 if the
figures differ or a run fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for entry in (REPO / "src", REPO):
    if str(entry) not in sys.path:  # `python bench/x.py` puts only bench/ on the path
        sys.path.insert(0, str(entry))

from tgpilot.models import Chat, ChatType, Message, Reaction, Sender  # noqa: E402

NOW = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
SPAN_DAYS = 365
SEED = 20251201
GENERATION = 2
"""Bump when the generated chat changes: cached archives of older generations are rebuilt."""
TINY = 5000
DEFAULT_MESSAGES = 1_000_000
DEFAULT_TZ = "Europe/Berlin"
TARGET = 2.0
MIN_LENGTH = 10
CACHE = REPO / "bench" / "out" / "analyze_local"
CHAT = Chat(
    id=-1_001_777_000_042,
    raw_id=1_777_000_042,
    type=ChatType.SUPERGROUP,
    title="Bench Analytics",
    username="bench_analytics",
)
COMMAND = (
    "analyze",
    CHAT.title,
    "--source",
    "store",
    "--provider",
    "local",
    "--limit",
    "0",
    "--days",
    "0",
)

# --------------------------------------------------------------------------- the chat


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


NEUTRAL_RU = _words(
    "сегодня завтра вечером давайте посмотрим кто будет где мы вы они это тоже уже ещё "
    "потом сейчас можно нужно надо вопрос ответ идея план список новый старый большой "
    "маленький быстро медленно привет коллеги друзья как дела что думаете согласен "
    "наверное конечно точно понял договорились напишу позже скинь ссылку смотрите вот"
)
NEUTRAL_EN = _words(
    "today tomorrow tonight let's see who will where we you they this also already later "
    "now maybe need question answer idea plan list new old big small quick slow the and "
    "with for hello folks what do you think agree sure got it deal will write soon"
)
TOPIC_WORDS = _words(
    # work, money, tech, ai, programming, books, education, travel, food, health, sport,
    # family, movies, music, meetings — inflected forms the stems must catch
    "работу работа зарплата вакансия офисе коллегами job career salary hiring "
    "деньги денег бюджет оплата кредит рублей доллар money budget payment price "
    "технологии компьютер ноутбук сервер смартфон tech computer laptop server "
    "AI ИИ нейросеть нейросети chatgpt GPT LLM openai neural "
    "программа программирование разработка код кода python javascript github баги деплой "
    "коммит programming developer code coding "
    "книгу книги книжка автор главу читаю прочитал библиотека book books novel author chapter "
    "учеба школа университет экзамен лекция study course school university exam "
    "отпуск поездка билеты отель travel trip vacation flight hotel "
    "кофе чай ресторан обед ужин завтрак рецепт coffee tea lunch dinner breakfast "
    "врач здоровье лекарства больница doctor health hospital "
    "спорт тренировка футбол пробежка sport workout football gym "
    "семья дети детей родители family kids children parents "
    "фильм кино сериал movie film "
    "музыка концерт песня music concert song album "
    "встреча встретимся созвон собрание митап meeting meetup"
)
NEAR_MISSES = _words(  # must NOT count: not at a word start, or not the whole word
    "заработок email said радио скурьер техникум кодекс гимн бегемот чайник semester "
    "evening скинул mail aim"
)
POSITIVE = _words(
    "спасибо благодарю отлично хорошо супер класс классно круто рад интересно нравится "
    "молодец thanks great awesome good nice glad perfect 👍 🔥 ❤️ 🎉 🙏"
)
NEGATIVE = _words("плохо ужас проблема ошибка жаль увы сломалось bad terrible problem failed 👎 😢")
PROFANE = _words("блять хуйня пиздец нахуй fuck shit")
EXCEPTIONS = _words("мудрый мудрость сукно")  # listed exceptions: never profane
EMOJI = _words("😂 🤔 🙂 👀 ✅")
URLS = (
    "https://example.com/page?id={n}",
    "github.com/tgpilot/tgpilot/issues/{n}",
    "https://hh.ru/vacancy/работа-{n}",  # a topic word inside a link does not count
    "www.книги.рф/{n}",
    "https://t.me/bench_analytics/{n}",
)
MEDIA_TYPES = ("photo", "video", "document", "voice", "sticker")
SERVICE_ACTIONS = ("pin_message", "chat_add_user", "chat_edit_title")
SHORT = ("ок", "да", "+1", "👍", "спс", "ok", "lol", "ага")

HUMAN_NAMES = (
    "Анна Иванова",
    "Борис Петров",
    "Вера Смирнова",
    "Глеб Кузнецов",
    "Дарья Попова",
    "Егор Васильев",
    "Жанна Соколова",
    "Захар Михайлов",
    "Ирина Новикова",
    "Кирилл Фёдоров",
    "Лена Морозова",
    "Максим Волков",
    "Нина Алексеева",
    "Олег Лебедев",
    "Полина Семенова",
    "Роман Егоров",
    "Светлана Павлова",
    "Тимур Козлов",
    "Ульяна Степанова",
    "Фёдор Николаев",
    "Alice Walker",
    "Bob Stone",
    "Carol King",
    "Dave Miller",
    "Eve Adams",
    "Frank Moore",
    "Grace Hall",
    "Henry Clark",
    "Ivy Young",
    "Jack Turner",
    "Kate Brown",
    "Leo Scott",
    "Mia Green",
    "Noah Baker",
    "Olga Hill",
    "Paul Wright",
)
BOT = Sender(9_000_001, "Standup Bot", username="standup_bot", is_bot=True)


def senders() -> tuple[list[Sender], list[float]]:
    """The chat's members with Zipf-like activity weights; two have only a username."""
    people = [Sender(10_000 + n, name, username=f"member{n}") for n, name in enumerate(HUMAN_NAMES)]
    people += [Sender(20_001, "", username="quiet_fox"), Sender(20_002, "", username="nightowl")]
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(people))]
    return people, weights


SYLLABLES_RU = _words("ка ло ми ра то ве ни су да ре по ты ль ск ов ая ий ие ну жи бе гу зо чи ша")
SYLLABLES_EN = _words("ka lo mi ra to ve ni su da re po ty el sk ov ay in ie nu zh be gu zo chi sh")


def filler(rng: random.Random, neutral: Sequence[str], syllables: Sequence[str]) -> str:
    """A common word, or one of the long tail a real chat has (names, slang, typos —
    here made of syllables, some hundred thousand of them), or a number or a time."""
    roll = rng.random()
    if roll < 0.22:
        return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
    if roll < 0.25:
        return str(rng.randint(1, 5000))
    if roll < 0.27:
        return f"{rng.randint(0, 23)}:{rng.choice((0, 15, 30, 45)):02d}"
    word = rng.choice(neutral)
    return word + "," if rng.random() < 0.08 else word


def message_text(rng: random.Random, n: int) -> str:
    """A chat line: common and rarer words with now and then a topic word, a sentiment
    marker, an emoji, a link, a near miss or (rarely) profanity."""
    russian = rng.random() < 0.7
    neutral, syllables = (NEUTRAL_RU, SYLLABLES_RU) if russian else (NEUTRAL_EN, SYLLABLES_EN)
    words = [filler(rng, neutral, syllables) for _ in range(rng.randint(2, 16))]
    extras: list[str] = []
    if rng.random() < 0.45:
        extras += rng.sample(TOPIC_WORDS, rng.randint(1, 2))
    if rng.random() < 0.30:
        extras.append(rng.choice(POSITIVE))
    if rng.random() < 0.12:
        extras.append(rng.choice(NEGATIVE))
    if rng.random() < 0.10:
        extras.append(rng.choice(NEAR_MISSES))
    if rng.random() < 0.08:
        extras.append(rng.choice(EMOJI))
    if rng.random() < 0.02:
        extras.append(rng.choice(PROFANE))
    if rng.random() < 0.005:
        extras.append(rng.choice(EXCEPTIONS))
    for extra in extras:
        words.insert(rng.randint(0, len(words)), extra)
    if rng.random() < 0.06:
        words.append(rng.choice(URLS).format(n=n))
    text = " ".join(words)
    if rng.random() < 0.5:
        text = text[:1].upper() + text[1:]
    if rng.random() < 0.4:
        text += rng.choice((".", "!", "?", "...", " :)"))
    return text


def reactions(rng: random.Random) -> tuple[Reaction, ...]:
    roll = rng.random()
    if roll >= 0.22:
        return ()
    found = [Reaction("emoji", rng.randint(1, 9), emoji=rng.choice(("👍", "🔥", "❤", "😂")))]
    if roll < 0.04:
        found.append(Reaction("custom_emoji", rng.randint(1, 3), document_id=5_368_324_170_671))
    if roll < 0.01:
        found.append(Reaction("paid", rng.randint(1, 50)))
    return tuple(found)


HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 15, 15, 16, 15, 14, 14, 13, 13, 12, 11, 10, 8, 5, 2)
"""How busy each UTC hour of the day is (quiet nights, busy afternoons)."""


def message_times(total: int, rng: random.Random) -> Iterator[datetime]:
    """``total`` times over the :data:`SPAN_DAYS` days before :data:`NOW`, in order:
    quieter weekends, busier afternoons, whole seconds."""
    start = (NOW - timedelta(days=SPAN_DAYS)).replace(hour=0, minute=0, second=0)
    weights = [0.6 if (start + timedelta(days=d)).weekday() >= 5 else 1.0 for d in range(SPAN_DAYS)]
    scale = total / sum(weights)
    made = 0
    for day in range(SPAN_DAYS):
        count = (
            round(scale * sum(weights[: day + 1])) - made if day < SPAN_DAYS - 1 else total - made
        )
        made += count
        base = start + timedelta(days=day)
        seconds = sorted(
            hour * 3600 + rng.randrange(3600)
            for hour in rng.choices(range(24), HOUR_WEIGHTS, k=count)
        )
        for second in seconds:
            yield base + timedelta(seconds=second)


def chat_messages(total: int, *, seed: int = SEED) -> Iterator[Message]:
    """``total`` messages of one busy supergroup over the year before :data:`NOW`, oldest
    first, deterministic for a seed: mostly texts (some too short to keep), captioned
    and bare media, a bot, service messages, reactions on about a fifth."""
    rng = random.Random(seed)
    people, weights = senders()
    for n, when in enumerate(message_times(total, random.Random(seed + 1)), start=1):
        roll = rng.random()
        sender = rng.choices(people, weights)[0]
        text, media, service = "", None, None
        if roll < 0.01:
            service = rng.choice(SERVICE_ACTIONS)
        elif roll < 0.03:
            sender, text = BOT, "Daily standup: " + message_text(rng, n)
        elif roll < 0.09:
            text = rng.choice(SHORT)
        elif roll < 0.13:
            media = rng.choice(MEDIA_TYPES)
        elif roll < 0.19:
            media, text = rng.choice(MEDIA_TYPES), message_text(rng, n)
        else:
            text = message_text(rng, n)
        yield Message(
            chat_id=CHAT.id,
            id=n,
            date=when,
            text=text,
            sender=sender,
            media_type=media,
            reactions=reactions(rng) if service is None else (),
            is_service=service is not None,
            service_action=service,
        )


# --------------------------------------------------------------------------- the archive


async def build_archive(path: Path, total: int, *, batch: int = 5000) -> None:
    """Write the chat and its ``total`` messages into a new SQLite store at ``path``
    through the Store API (batched upserts, as ``archive sync`` writes)."""
    from tests.fakes.clock import FakeClock
    from tgpilot.store import Store
    from tgpilot.store.records import ChatRecord

    path.unlink(missing_ok=True)
    async with await Store.open(f"sqlite:///{path}", clock=FakeClock(start=NOW)) as store:
        await store.upsert_chats([ChatRecord.from_chat(CHAT)])
        chunk: list[Message] = []
        for message in chat_messages(total):
            chunk.append(message)
            if len(chunk) >= batch:
                await store.upsert_messages(chunk, fetched_at=NOW, batch_size=batch)
                chunk = []
        if chunk:
            await store.upsert_messages(chunk, fetched_at=NOW, batch_size=batch)


def ensure_archive(total: int, cache: Path) -> tuple[Path, float | None]:
    """The cached archive of ``total`` messages (built now if missing): its path and the
    seconds building took (None when it was cached)."""
    path = cache.resolve() / f"archive-{total}-g{GENERATION}.db"
    if path.exists():
        return path, None
    cache.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    began = time.perf_counter()
    asyncio.run(build_archive(building, total))
    for suffix in ("-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    building.rename(path)
    return path, round(time.perf_counter() - began, 3)


# --------------------------------------------------------------------------- tgpilot


def tgpilot_environment(db: Path, home: Path, tz: str) -> dict[str, str]:
    """A private home whose store is the archive, the report zone ``tz``, and nothing
    inherited (no config, .env or credentials)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TGPILOT_", "TELEGRAM_"))}
    env.update(
        TGPILOT_HOME=str(home),
        TGPILOT_STORE__URL=f"sqlite:///{db}",
        TGPILOT_OUTPUT__TIMEZONE=tz,
        HOME=str(home / "user"),
        XDG_CONFIG_HOME=str(home / "user" / ".config"),
    )
    return env


async def tgpilot_metrics() -> dict[str, Any]:
    """``activity_metrics`` of the store's chat as ``tgpilot analyze CHAT --source store
    --provider local --limit 0 --days 0`` computes them (configuration, store, resolver,
    word lists and the service as the CLI uses them), streamed: ``keep_messages=False``."""
    from tgpilot.core.config import ConfigOptions, load_config
    from tgpilot.services.ai.analyze import Lexicons, Selection, analyze_locally
    from tgpilot.services.ai.analyze.report import report_object
    from tgpilot.services.archive.source import ArchiveSource
    from tgpilot.services.sources import OfflineChatResolver, message_window
    from tgpilot.store import Store

    config = load_config(ConfigOptions())
    tz = config.output.tz
    window = message_window(NOW, days=0, limit=0, tz=tz, default_days=30)
    lexicons = Lexicons.load(config.moderation, override_dir=config.home / "wordlists")
    async with await Store.open(config.store.url.get_secret_value()) as store:
        resolver = OfflineChatResolver(await store.known_chats(), config.chats)
        chat = await resolver.resolve(CHAT.title)
        analysis = await analyze_locally(
            chat,
            ArchiveSource(store),
            window=window,
            selection=Selection(min_length=MIN_LENGTH),
            lexicons=lexicons,
            tz=tz,
            now=NOW,
            source_label="store",
            keep_messages=False,
        )
    metrics: dict[str, Any] = report_object(analysis.report, tz)["activity_metrics"]
    return metrics


def cli_metrics(home: Path) -> dict[str, Any]:
    """``activity_metrics`` of the JSON report the real CLI writes (in-process)."""
    import contextlib
    import io

    from tests.fakes.clock import FakeClock
    from tgpilot.cli.app import run

    out_dir = home / "reports"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        command = [*COMMAND, "--format", "json", "--json", "--out", str(out_dir)]
        code = run(command, clock=FakeClock(start=NOW))
    if code != 0:
        raise RuntimeError(f"tgpilot {' '.join(COMMAND)}: exit {code}: {err.getvalue().strip()}")
    [row] = json.loads(out.getvalue())["reports"]
    document = json.loads(Path(row["files"]["json"]).read_text(encoding="utf-8"))
    metrics: dict[str, Any] = document["activity_metrics"]
    return metrics


# --------------------------------------------------------------------------- pandas

SQL = """
SELECT m.message_id, m.date, m.sender_id, m.sender_name, u.first_name, u.last_name,
       u.username, u.is_bot, m.is_service, m.text, m.reactions_total, m.media_type
FROM messages AS m LEFT OUTER JOIN users AS u ON u.id = m.sender_id
WHERE m.chat_id = ?
ORDER BY m.date, m.message_id
"""
UNKNOWN_SENDER = "Unknown sender"
SERVICE_NOTIFICATIONS = 777000


def _key_pattern(keys: Sequence[str]) -> str:
    import re

    ordered = sorted(set(keys), key=lambda k: (-len(k), k))  # the longest key wins
    return "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in ordered)


def _terms(raw: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """Prefix keys, whole-word keys and regular expressions of a word list's terms."""
    from tgpilot.core.textmatch import TermKind, parse_term

    parsed = [parse_term(t) for t in raw if t.strip()]
    return (
        [t.key for t in parsed if t.kind is TermKind.PREFIX],
        [t.key for t in parsed if t.kind is TermKind.WORD],
        [t.key.replace("ё", "е").replace("Ё", "Е") for t in parsed if t.kind is TermKind.REGEX],
    )


def _word_regex(prefixes: Sequence[str], words: Sequence[str], *, capture: bool = False) -> str:
    """Prefix keys at a word start, whole-word keys as whole words (``(?P<p>)`` and
    ``(?P<w>)`` name the key found when ``capture``)."""
    p, w = ("(?P<p>", "(?P<w>") if capture else ("(?:", "(?:")
    parts = []
    if prefixes:
        parts.append(f"{p}{_key_pattern(prefixes)})" + (r"\w*" if capture else ""))
    if words:
        parts.append(f"{w}{_key_pattern(words)})(?!\\w)")
    return r"(?<!\w)(?:" + "|".join(parts) + ")" if parts else r"(?!x)x"


def _display_name(
    sender_id: Any, name: Any, first: Any, last: Any, username: Any
) -> tuple[str, int | None]:
    """The name a sender is shown by (full name, else @username, else User <id>)."""
    import pandas as pd

    sender_id = None if pd.isna(sender_id) else int(sender_id)
    name = None if pd.isna(name) else str(name)
    if sender_id is None and name is None:
        return UNKNOWN_SENDER, None
    if name is None:
        name = " ".join(str(p) for p in (first, last) if not pd.isna(p) and p)
    if name.strip():
        return name.strip(), sender_id
    if not pd.isna(username) and username:
        return f"@{username}", sender_id
    return (f"User {sender_id}" if sender_id is not None else UNKNOWN_SENDER), sender_id


def _iso(value: datetime, tz: tzinfo) -> str:
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _preview(text: str, length: int = 140) -> str:
    line = " ".join(text.split())
    return line if len(line) <= length else line[: length - 1] + "…"


def pandas_metrics(db: Path, tz_name: str) -> dict[str, Any]:
    """The same figures with pandas over the same rows (see the module docstring)."""
    import re
    import sqlite3
    from zoneinfo import ZoneInfo

    import pandas as pd

    from tgpilot.core import textmatch
    from tgpilot.core.wordlists import load_wordlist, term_groups, term_list
    from tgpilot.services.moderation.wordlists import load_profanity

    tz = ZoneInfo(tz_name)
    topics = {
        name: _terms(terms)
        for name, terms in term_groups(load_wordlist("topics"), "topics", origin="").items()
    }
    sentiment = load_wordlist("sentiment")
    sides = {
        side: _terms(term_list(sentiment, side, origin="")) for side in ("positive", "negative")
    }
    profanity = load_profanity()
    stems, whole, stem_res = _terms(profanity.terms)
    exc_stems, exc_whole, exc_res = _terms(profanity.exceptions)
    if stem_res or exc_res:
        raise NotImplementedError("the pandas baseline handles word terms only for profanity")
    url = re.compile(textmatch._URL.pattern, re.IGNORECASE | re.VERBOSE)

    with sqlite3.connect(db) as connection:
        chat_id = connection.execute(
            "SELECT id FROM chats WHERE title = ?", (CHAT.title,)
        ).fetchone()[0]
        df = pd.read_sql(SQL, connection, params=(chat_id,))

    # Selection: no service messages, no bots, ≥ MIN_LENGTH characters of stripped text.
    bots = (df["is_bot"].fillna(0) == 1) | (df["sender_id"] == SERVICE_NOTIFICATIONS)
    df = df[(df["is_service"] == 0) & ~bots]
    length = df["text"].fillna("").str.strip().str.len()
    keep = (length > 0) & (length >= MIN_LENGTH)
    df = df[keep].assign(length=length[keep])
    df = df.assign(
        when=pd.to_datetime(df["date"], format="ISO8601", utc=True),
        media=df["media_type"].fillna("").str.len() > 0,
    )
    total = len(df)
    local = df["when"].dt.tz_convert(tz_name)

    # Senders: counted by id (by name when there is none); named as in their oldest message.
    has_id = df["sender_id"].notna()
    per_id = (
        df[has_id]
        .groupby("sender_id")
        .agg(
            messages=("message_id", "size"),
            chars=("length", "sum"),
            reactions=("reactions_total", "sum"),
        )
    )
    first_rows = df[has_id].drop_duplicates("sender_id").set_index("sender_id")
    senders = []
    for sender_id, row in per_id.iterrows():
        first = first_rows.loc[sender_id]
        name, _ = _display_name(
            sender_id,
            first["sender_name"],
            first["first_name"],
            first["last_name"],
            first["username"],
        )
        order = (first["when"], int(first["message_id"]))
        senders.append(
            (
                name,
                int(sender_id),
                int(row["messages"]),
                int(row["chars"]),
                int(row["reactions"]),
                order,
            )
        )
    if (~has_id).any():
        rest = df[~has_id]
        names = [
            _display_name(None, n, f, la, u)[0]
            for n, f, la, u in zip(
                rest["sender_name"],
                rest["first_name"],
                rest["last_name"],
                rest["username"],
                strict=True,
            )
        ]
        rest = rest.assign(display=names)
        for display, group in rest.groupby("display", sort=False):
            order = (group["when"].iloc[0], int(group["message_id"].iloc[0]))
            senders.append(
                (
                    str(display),
                    None,
                    len(group),
                    int(group["length"].sum()),
                    int(group["reactions_total"].sum()),
                    order,
                )
            )
    senders.sort(key=lambda s: (-s[2], -s[3], s[0].casefold(), s[5]))
    anonymous = df["sender_id"].isna() & df["sender_name"].isna()
    unique_senders = int(per_id.shape[0]) + (
        int(df[~has_id & ~anonymous]["sender_name"].nunique()) if (~has_id).any() else 0
    )

    # Hours and days in the report zone.
    by_hour = local.dt.hour.value_counts().reindex(range(24), fill_value=0)
    per_day = local.dt.normalize().value_counts()
    counts = {stamp.date(): int(n) for stamp, n in per_day.items()}
    first_when = df["when"].min().to_pydatetime()
    last_when = df["when"].max().to_pydatetime()
    first_day, last_day = first_when.astimezone(tz).date(), last_when.astimezone(tz).date()
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    busiest = max(range(24), key=lambda h: (int(by_hour[h]), -h))

    # Text: folded, links blanked out for word terms.
    folded = df["text"].str.casefold().str.replace("ё", "е", regex=False)
    words = folded.str.replace(url, " ", regex=True)

    def markers(prefixes: list[str], whole_words: list[str], patterns: list[str]) -> pd.Series:
        """Distinct markers of one sentiment side in each text."""
        found = []
        if prefixes or whole_words:
            hits = words.str.extractall(_word_regex(prefixes, whole_words, capture=True))
            found.append(("p:" + hits["p"]).fillna("w:" + hits["w"]))
        if patterns:
            regexes = "|".join(f"(?P<r{n}>{p})" for n, p in enumerate(patterns))
            hits = folded.str.extractall(re.compile(regexes, re.IGNORECASE))
            found.append(hits.notna().idxmax(axis=1))
        if not found:
            return pd.Series(0, index=df.index)
        distinct = pd.concat(found).groupby(level=0).nunique()
        return distinct.reindex(df.index, fill_value=0)

    up, down = markers(*sides["positive"]), markers(*sides["negative"])
    score = ((up - down) * 0.2).clip(-1.0, 1.0).round(2)
    marked = score != 0

    def mean(values: pd.Series) -> float:
        return round(float(values.mean()), 2) if len(values) else 0.0

    def best(rows: pd.DataFrame, n: int) -> pd.DataFrame:
        return rows.sort_values(
            ["reactions_total", "when", "message_id"], ascending=[False, True, True]
        ).head(n)

    topic_rows = []
    for order, (name, (prefixes, whole_words, patterns)) in enumerate(topics.items()):
        hit = words.str.contains(_word_regex(prefixes, whole_words), regex=True)
        for pattern in patterns:
            hit |= folded.str.contains(pattern, regex=True, flags=re.IGNORECASE)
        mentions = int(hit.sum())
        if mentions:
            key_ids = [int(i) for i in best(df[hit], 5)["message_id"]]
            topic_rows.append((mentions, order, name, mean(score[hit & marked]), key_ids))
    topic_rows.sort(key=lambda t: (-t[0], t[1]))

    exceptions = _word_regex(exc_stems, exc_whole)[len(r"(?<!\w)") :]
    profane = words.str.contains(
        r"(?<!\w)(?!" + exceptions + ")" + _word_regex(stems, whole)[len(r"(?<!\w)") :], regex=True
    )
    profane_messages = int(profane.sum())
    positive, negative = int((score > 0).sum()), int((score < 0).sum())
    chars, media = int(df["length"].sum()), int(df["media"].sum())
    reactions = int(df["reactions_total"].sum())
    reacted = best(df[df["reactions_total"] > 0], 5)

    def label(value: float) -> str:
        return "positive" if value > 0.2 else "negative" if value < -0.2 else "neutral"

    overall = mean(score[marked])
    return {
        "total_messages": total,
        "unique_senders": unique_senders,
        "messages_by_sender": [
            {
                "name": s[0],
                "sender_id": s[1],
                "messages": s[2],
                "characters": s[3],
                "reactions": s[4],
            }
            for s in senders
        ],
        "total_reactions": reactions,
        "average_length": round(chars / total, 1),
        "media_messages": media,
        "media_percent": round(100 * media / total, 1),
        "first_message": _iso(first_when, tz),
        "last_message": _iso(last_when, tz),
        "days": (last_when - first_when).days + 1,
        "messages_per_day": round(total / ((last_when - first_when).days + 1), 1),
        "timezone": tz_name,
        "messages_by_hour": [int(by_hour[h]) for h in range(24)],
        "messages_by_day": [{"date": d.isoformat(), "messages": counts.get(d, 0)} for d in days],
        "busiest_hour": {"hour": busiest, "messages": int(by_hour[busiest])},
        "topics": [
            {
                "name": name,
                "mentions": mentions,
                "sentiment": label(value),
                "score": value,
                "key_message_ids": ids,
            }
            for mentions, _, name, value, ids in topic_rows
        ],
        "sentiment": {
            "score": overall,
            "label": label(overall),
            "positive_messages": positive,
            "negative_messages": negative,
            "neutral_messages": total - positive - negative,
        },
        "profanity": {
            "messages": profane_messages,
            "percent": round(100 * profane_messages / total, 1),
        },
        "most_reacted": [
            {
                "id": int(row["message_id"]),
                "date": _iso(row["when"].to_pydatetime(), tz),
                "sender": _display_name(
                    row["sender_id"],
                    row["sender_name"],
                    row["first_name"],
                    row["last_name"],
                    row["username"],
                )[0],
                "text": _preview(row["text"]),
                "reactions": int(row["reactions_total"]),
                "media": bool(row["media"]),
            }
            for _, row in reacted.iterrows()
        ],
    }


# --------------------------------------------------------------------------- one side


def child(side: str, db: Path, tz: str) -> dict[str, Any]:
    """Run one side in this process (started for it alone): seconds, peak RSS, figures."""
    db = db.resolve()
    with tempfile.TemporaryDirectory(prefix="tgpilot-bench-") as folder:
        home = Path(folder)
        environment = tgpilot_environment(db, home, tz)
        os.environ.clear()
        os.environ.update(environment)
        cwd = Path.cwd()
        os.chdir(home)
        try:
            return _measure_side(side, db, tz, home)
        finally:
            os.chdir(cwd)


def _measure_side(side: str, db: Path, tz: str, home: Path) -> dict[str, Any]:
    if side == "pandas":  # imports are not timed, on either side
        import pandas  # noqa: F401
    else:
        import tgpilot.cli.app
        import tgpilot.services.ai.analyze
        import tgpilot.store.activity  # noqa: F401
    before = _rss_mb()
    began = time.perf_counter()
    if side == "pandas":
        figures = pandas_metrics(db, tz)
    elif side == "tgpilot":
        figures = asyncio.run(tgpilot_metrics())
    else:
        figures = cli_metrics(home)
    seconds = time.perf_counter() - began
    return {
        "version": getattr(sys.modules.get("pandas"), "__version__", None),
        "seconds": round(seconds, 3),
        "rss_before_mb": before,
        "peak_rss_mb": _rss_mb(),
        "figures": figures,
    }


def _rss_mb() -> float:
    """This process's peak resident set size so far, in MB.

    Linux's ``ru_maxrss`` keeps the high-water mark of the address space a process had
    before ``exec`` — here the parent's, as the child was forked from it — so the
    kernel's own figure for this program's address space (``VmHWM``) is read instead;
    ``ru_maxrss`` where there is none.
    """
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        status = ""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_side(side: str, db: Path, tz: str) -> dict[str, Any]:
    """:func:`child` in a fresh interpreter, so that its peak RSS is its own."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO)])
    proc = subprocess.run(
        [sys.executable, __file__, "--child", side, "--db", str(db), "--tz", tz],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{side}: exit {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


# --------------------------------------------------------------------------- comparing


SCORE_SLACK = 0.01
"""Mean sentiment scores are rounded to two decimals from a float mean; summed in a
different order, a mean that lies on a half (0.075) can round either way, so scores may
differ by one in the last digit."""


def differences(expected: Any, got: Any, path: str = "") -> list[str]:
    """Where two figure documents differ (as paths); scores within :data:`SCORE_SLACK`."""
    if isinstance(expected, dict) and isinstance(got, dict):
        found = []
        for key in sorted(set(expected) | set(got)):
            if key not in expected or key not in got:
                found.append(f"{path}.{key}: only on one side")
            else:
                found += differences(expected[key], got[key], f"{path}.{key}")
        return found
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return [f"{path}: {len(expected)} items vs {len(got)}"]
        found = []
        for n, (a, b) in enumerate(zip(expected, got, strict=True)):
            found += differences(a, b, f"{path}[{n}]")
        return found
    if (
        path.endswith(".score")
        and isinstance(expected, float)
        and isinstance(got, float)
        and abs(expected - got) <= SCORE_SLACK + 1e-9
    ):
        return []
    return [] if expected == got else [f"{path}: {expected!r} vs {got!r}"]


def measure(messages: int, repeat: int, tz: str, cache: Path, cli_check: bool) -> dict[str, Any]:
    db, built = ensure_archive(messages, cache)
    problems: list[str] = []
    runs: dict[str, list[dict[str, Any]]] = {"tgpilot": [], "pandas": []}
    for n in range(repeat):
        for side in ("tgpilot", "pandas") if n % 2 == 0 else ("pandas", "tgpilot"):
            runs[side].append(run_side(side, db, tz))
    ours, theirs = runs["tgpilot"][0]["figures"], runs["pandas"][0]["figures"]
    diff = differences(ours, theirs)
    if diff:
        problems.append(f"tgpilot and pandas figures differ ({len(diff)}): " + "; ".join(diff[:5]))
    for side, results in runs.items():
        if any(r["figures"] != results[0]["figures"] for r in results[1:]):
            problems.append(f"{side}: figures changed between runs")
    cli: dict[str, Any] | None = None
    if cli_check:
        result = run_side("cli", db, tz)
        cli_diff = differences(ours, result["figures"])
        if cli_diff:
            problems.append(
                "the CLI's report differs from tgpilot's side: " + "; ".join(cli_diff[:5])
            )
        cli = {
            "command": "tgpilot " + " ".join(f"'{a}'" if " " in a else a for a in COMMAND),
            "seconds": result["seconds"],
            "peak_rss_mb": result["peak_rss_mb"],
            "same_figures": not cli_diff,
        }
    ours_s = statistics.median(r["seconds"] for r in runs["tgpilot"])
    theirs_s = statistics.median(r["seconds"] for r in runs["pandas"])
    ours_rss = max(r["peak_rss_mb"] for r in runs["tgpilot"])
    theirs_rss = max(r["peak_rss_mb"] for r in runs["pandas"])
    ratio = round(theirs_s / ours_s, 3) if ours_s else None

    def side(results: list[dict[str, Any]], seconds: float, rss: float) -> dict[str, Any]:
        return {
            "seconds": round(seconds, 3),
            "runs": [r["seconds"] for r in results],
            "messages_per_second": round(messages / seconds) if seconds else None,
            "peak_rss_mb": rss,
            "rss_before_mb": max(r["rss_before_mb"] for r in results),
        }

    return {
        "benchmark": "analyze_local",
        "messages": messages,
        "kept": ours["total_messages"],
        "repeat": repeat,
        "timezone": tz,
        "archive": {"path": str(db), "bytes": db.stat().st_size, "built_seconds": built},
        "tgpilot": {
            "command": "tgpilot " + " ".join(f"'{a}'" if " " in a else a for a in COMMAND),
            "call": "analyze_locally(..., keep_messages=False) as the CLI sets it up",
            **side(runs["tgpilot"], ours_s, ours_rss),
        },
        "baseline": {
            "code": "pandas: read_sql, masks, groupby, value_counts, str.contains/extractall",
            "pandas": runs["pandas"][0]["version"],
            **side(runs["pandas"], theirs_s, theirs_rss),
        },
        "cli_check": cli,
        "figures_match": not diff,
        "ratios": {
            "pandas_vs_tgpilot": ratio,
            "peak_rss_pandas_vs_tgpilot": round(theirs_rss / ours_rss, 3) if ours_rss else None,
        },
        "target": {"pandas_vs_tgpilot": TARGET},
        "target_met": ratio is not None and ratio >= TARGET,
        "bounds_ok": not problems,
        "problems": problems,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/analyze_local.py", description=(__doc__ or "").split("\n")[0]
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--messages", type=int, default=DEFAULT_MESSAGES, help="messages (1000000)")
    size.add_argument("--tiny", action="store_true", help=f"{TINY} messages (CI smoke test)")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs of each side (3)")
    parser.add_argument("--tz", default=DEFAULT_TZ, help=f"report zone ({DEFAULT_TZ})")
    parser.add_argument("--cli-check", action="store_true", help="also run the real CLI")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where archives are kept")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--child", choices=("tgpilot", "pandas", "cli"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.db, args.tz), ensure_ascii=False))
        return 0
    messages = TINY if args.tiny else args.messages
    if messages < 1 or args.repeat < 1:
        parser.error("--messages and --repeat must be positive")
    from harness import report  # not in the children: it loads the fake Telegram

    figures = measure(messages, args.repeat, args.tz, args.cache, args.cli_check or args.tiny)
    return report(figures, args.out)


if __name__ == "__main__":
    sys.exit(main())
