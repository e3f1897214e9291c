"""Generate the sample Telegram Desktop export: ``sample/desktop_export/result.json``.

A single-chat export, in Telegram Desktop's own JSON layout, of **Demo Reading Club:
книги и кофе** — a public supergroup of a reading club that meets every second
Saturday — from 2025-03-01 to 2025-08-31: exactly 5,000 messages in Russian and
English from fifteen members and a reminder bot, with replies, forwards (from a
channel, from members, from a hidden account), edits, text entities (links, mentions,
hashtags, bold), emoji / custom-emoji / paid reactions, photos, videos, round videos,
voice notes, stickers, GIFs, documents, audio files and polls (media as Desktop's "File
not included" markers, as when exporting without media), posts by an anonymous admin,
a deleted account, and service messages (creation, invitations, joins by link, a
departure, title and photo changes, pins, voice chats).

Everything comes from one seeded RNG and fixed dates, so every run writes the same
bytes. Dates are written as Desktop writes them: wall time of the exporting computer
(Moscow, UTC+3) plus ``date_unixtime``. Standard library only; run from the repository
root::

    python -m sample.desktop_export.generate            # writes the shipped file
    python -m sample.desktop_export.generate OUT.json   # writes elsewhere
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

SEED = 20250301
LOCAL = timezone(timedelta(hours=3))
"""The exporting computer's zone (Moscow: UTC+3 all year)."""
FIRST_DAY = date(2025, 3, 1)
LAST_DAY = date(2025, 8, 31)
TOTAL_MESSAGES = 5000

CHAT_ID = 1_862_004_517
CHAT_TYPE = "public_supergroup"
OLD_TITLE = "Demo Reading Club"
TITLE = "Demo Reading Club: книги и кофе"
CHAT_USERNAME = "demo_reading_club"
NEWS_CHANNEL = "Book Digest · книжные новости"
HIDDEN_FORWARD = "Марина К."
ADMIN_SIGNATURE = "организатор"

NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
OUT = Path(__file__).with_name("result.json")

MEETUPS = tuple(date(2025, 3, 8) + timedelta(days=14 * n) for n in range(13))
CUSTOM_EMOJI = ("5368324170671202286", "5377305978079288312", "5420315771991497307")
EMOJI = ("👍", "❤", "🔥", "😁", "👏", "🤔", "🎉", "🙏", "💯", "😍", "🤣", "📚")


@dataclass(frozen=True)
class Person:
    """A member of the chat and how they write."""

    id: int
    first: str
    last: str | None
    username: str | None
    lang: str  # "ru", "en" or "mix"
    fem: bool
    weight: float
    joined: date = FIRST_DAY
    left: date | None = None
    deleted: bool = False

    @property
    def name(self) -> str | None:
        """The name Desktop writes in ``from`` (None for a deleted account)."""
        if self.deleted:
            return None
        return " ".join(p for p in (self.first, self.last) if p)

    @property
    def ref(self) -> str:
        return f"user{self.id}"

    def active(self, day: date) -> bool:
        return self.joined <= day and (self.left is None or day < self.left)


def _person(
    n: int,
    first: str,
    last: str | None,
    username: str | None,
    lang: str,
    fem: bool,
    weight: float,
    **more: Any,
) -> Person:
    return Person(5_310_000_100 + n, first, last, username, lang, fem, weight, **more)


ANNA = _person(1, "Анна", "Смирнова", "anna_smirnova", "ru", True, 2.2)
DMITRY = _person(2, "Дмитрий", "Волков", "dvolkov", "ru", False, 1.4)
KATYA = _person(3, "Екатерина", "Орлова", None, "ru", True, 1.0)
SERGEY = _person(4, "Сергей", "Кузнецов", "skuznetsov", "mix", False, 0.9)
MARIA = _person(5, "Мария", "Лебедева", "masha_reads", "ru", True, 1.3)
ALEXEY = _person(6, "Алексей", "Орлов", None, "ru", False, 0.7)
EMILY = _person(7, "Emily", "Carter", "emily_carter", "en", True, 1.2)
JAMES = _person(8, "James", "Whitfield", "jwhitfield", "en", False, 0.8, joined=date(2025, 4, 5))
OLIVIA = _person(9, "Olivia", "Bennett", "olivia_reads", "en", True, 1.0, joined=date(2025, 3, 9))
NOAH = _person(10, "Noah", "Fischer", None, "mix", False, 0.6, joined=date(2025, 3, 15))
IRINA = _person(11, "Ирина", "Соколова", "irina_s", "ru", True, 1.0)
PAVEL = _person(12, "Павел", None, "pavel_books", "ru", False, 0.8)
LIZA = _person(13, "Лиза", "Морозова", "liza_m", "ru", True, 0.8, joined=date(2025, 6, 7))
TOM = _person(
    14, "Tom", None, None, "en", False, 0.5, joined=date(2025, 7, 5), left=date(2025, 8, 16)
)
GONE = _person(15, "", None, None, "ru", False, 0.35, left=date(2025, 4, 1), deleted=True)
BOT = Person(5_310_000_900, "Club Helper", None, "club_helper_bot", "ru", False, 0.0)
PEOPLE = (
    ANNA,
    DMITRY,
    KATYA,
    SERGEY,
    MARIA,
    ALEXEY,
    EMILY,
    JAMES,
    OLIVIA,
    NOAH,
    IRINA,
    PAVEL,
    LIZA,
    TOM,
    GONE,
)
FOUNDERS = (DMITRY, KATYA, SERGEY, MARIA, ALEXEY, EMILY, IRINA, PAVEL, GONE)

# --- words --------------------------------------------------------------------------------

WORDS: dict[str, dict[str, Sequence[str]]] = {
    "ru": {
        "book": (
            "«Пикник на обочине»",
            "«Мастер и Маргарита»",
            "«Лавр»",
            "«Петровы в гриппе»",
            "«Дни Савелия»",
            "«Стоунер»",
            "«Остаток дня»",
            "«Клара и Солнце»",
            "«Щегол»",
            "«Сто лет одиночества»",
            "«Обитель»",
            "«Понедельник начинается в субботу»",
            "«Пиранези»",
            "«Тётя Мотя»",
            "«Зулейха открывает глаза»",
            "«Generation П»",
        ),
        "place": (
            "в «Кофемании» на Никитской",
            "в парке Горького",
            "на Патриарших",
            "в Зарядье",
            "в Нескучном саду",
            "в «Циферблате» на Тверской",
            "в библиотеке им. Некрасова",
            "у «Библио-Глобуса»",
            "в кофейне на Чистых",
        ),
        "day": ("в субботу", "в воскресенье", "в четверг вечером", "на следующей неделе"),
        "time": ("в 11:00", "в 12:00", "в 15:30", "в 19:00", "к полудню"),
        "adj": ("очень душевно", "шумно, но весело", "супер", "как всегда тепло", "огонь"),
        "opinion": (
            "не зашла",
            "очень понравилась",
            "показалась затянутой",
            "зацепила с первых страниц",
            "читается на одном дыхании",
            "оставила странное послевкусие",
        ),
        "item": (
            "пару детективов",
            "Стругацких",
            "сборник Чехова",
            "свою «Дюну»",
            "два тома Пелевина",
            "Улицкую",
            "стопку поэзии",
        ),
        "coffee": ("отличный", "так себе", "дорогой, но вкусный", "с корицей просто 🔥"),
        "food": ("пирог", "печенье", "мандарины", "термос с чаем", "сырники"),
        "weather": ("дождь", "солнце", "ветер", "жара", "туман", "гроза"),
        "plus": ("язык", "атмосфера", "герои", "финал", "юмор", "структура"),
        "minus": (
            "середина провисает",
            "слишком длинно",
            "перевод хромает",
            "финал скомкан",
            "много лишних героев",
        ),
        "n": ("5", "10", "15", "20"),
        "score": ("6", "7", "8", "9", "10"),
    },
    "en": {
        "book": (
            "Piranesi",
            "Klara and the Sun",
            "The Remains of the Day",
            "Project Hail Mary",
            "Roadside Picnic",
            "The Master and Margarita",
            "A Gentleman in Moscow",
            "Stoner",
            "Middlemarch",
            "The Goldfinch",
            "Laurus",
            "Pachinko",
        ),
        "place": (
            "at Gorky Park",
            "near Patriarch's Ponds",
            "in Zaryadye",
            "at the café on Nikitskaya",
            "in Neskuchny Garden",
            "at Tsiferblat",
        ),
        "day": ("on Saturday", "this Sunday", "on Thursday evening", "next week"),
        "time": ("at 11", "at noon", "at 3:30 pm", "at 7 pm", "around lunch time"),
        "adj": ("lovely", "so much fun", "great", "loud but great", "really cosy"),
        "opinion": (
            "loved it",
            "the ending felt rushed",
            "couldn't put it down",
            "not my thing, honestly",
            "slow start, brilliant second half",
        ),
        "item": (
            "a couple of thrillers",
            "some Le Guin",
            "my spare copy of Dune",
            "two Murakamis",
            "a pile of poetry",
        ),
        "coffee": ("excellent", "a bit pricey", "fine", "surprisingly good"),
        "food": ("cookies", "a cake", "tangerines", "a thermos of tea", "lemon bars"),
        "weather": ("rain", "sunshine", "wind", "a heatwave", "fog", "a thunderstorm"),
        "plus": ("the prose", "the atmosphere", "the characters", "the ending", "the humour"),
        "minus": ("the middle drags", "too long", "clunky translation", "rushed ending"),
        "n": ("5", "10", "15", "20"),
        "score": ("6", "7", "8", "9", "10"),
    },
}

TEXTS: dict[str, dict[str, Sequence[str]]] = {
    "ru": {
        "open": (
            "Всем привет! Кто идёт {day} {place}?",
            "Дочитал{a} {book}, книга {opinion}.",
            "Кто-нибудь читал {book}? Стоит брать?",
            "Могу принести {item} для обмена.",
            "Голосуем за книгу месяца: {book} или {book2}? #книгамесяца",
            "Кофе {place}, кстати, {coffee}.",
            "Начал{a} {book} по вашему совету, пока нравится.",
            "А давайте в следующий раз обсудим {book}?",
            "Сегодня {weather}, идеальная погода, чтобы читать дома 📖",
            "В буке нашлось первое издание {book}, брать?",
            "Где можно тихо почитать {place}?",
            "Я тут подумал{a}: может, сделаем онлайн-встречу для тех, кто уехал?",
            "Ребята, у кого есть {book} в бумаге? Дайте почитать 🙏",
            "Прочитал{a} половину книги {book} — пока {opinion}.",
            "Делитесь, что читаете сейчас 👇",
            "Нашла рецензию на {book}: {link}",
            "Кто со мной на книжную ярмарку {day}? #bookswap",
        ),
        "reply": (
            "+1",
            "Соглас{en}",
            "Я за!",
            "Ахаха 😄",
            "Точно",
            "Тоже приду",
            "Не смогу, простите 🙏",
            "Читал{a}, {opinion}.",
            "А мне наоборот понравилось",
            "Давайте {day}, мне так удобнее",
            "Принесу {food}",
            "Можно я возьму после тебя?",
            "Поддерживаю, давно хотел{a}",
            "Ссылку скинешь?",
            "Интересно, а перевод какой?",
            "Да, там отличные столы у окна",
            "👍",
            "{mention}, ты же хотел{a} её почитать?",
            "Спасибо!",
            "Ого, не знал{a}",
        ),
        "before": (
            "Напоминаю: встреча {day} {time} {place}. Обсуждаем {book}.",
            "Кто точно будет завтра? Бронирую столик",
            "Я принесу {food} 🙂",
            "Опоздаю минут на {n}, начинайте без меня",
            "Не успеваю дочитать 😅 приду слушать",
        ),
        "day": (
            "Мы уже на месте, сидим у окна",
            "Опаздываю минут на {n}, простите!",
            "Где вы? Не вижу никого 🙈",
            "Фото со встречи выложу вечером",
            "Заказала всем {food} 😄",
        ),
        "after": (
            "Спасибо за вчерашнюю встречу, было {adj}!",
            "Спасибо всем! Было {adj} 🤗",
            "Фотки в архиве, кому нужно — пишите",
            "Кто забыл зонт в кафе? 🙂",
            "Следующую книгу выберем голосованием",
        ),
        "caption": (
            "Наш стол сегодня",
            "Книжная полка в кафе",
            "Моя стопка на лето",
            "Вид из окна {place}",
            "",
            "",
            "",
        ),
        "review": (
            "Дочитал{a} {book}.\nПлюсы: {plus}.\nМинусы: {minus}.\nИтого: {score}/10",
            "Мои впечатления о {book}:\n— {plus} прекрасны\n— но {minus}\nВ целом {opinion}.",
        ),
    },
    "en": {
        "open": (
            "Hi all! Who's coming {day} {place}?",
            "Just finished {book} — {opinion}.",
            "Has anyone read {book}? Worth it?",
            "I can bring {item} for the swap. #bookswap",
            "Vote for the book of the month: {book} or {book2}?",
            "The coffee {place} is {coffee}, by the way.",
            "Started {book} on your recommendation, so far so good.",
            "Could we do {book} next time?",
            "It's {weather} outside, perfect reading weather 📖",
            "Is there a quiet spot to read {place}?",
            "What is everyone reading right now? 👇",
            "Halfway through {book} and {opinion}.",
            "Great review of {book}: {link}",
        ),
        "reply": (
            "+1",
            "Same here",
            "Count me in!",
            "Haha 😄",
            "Sounds good",
            "Can't make it this time, sorry",
            "Read it — {opinion}.",
            "I'll bring {food}",
            "Can I borrow it after you?",
            "Which translation?",
            "Totally agree",
            "Link please?",
            "{mention} you should read this one",
            "Thanks!",
        ),
        "before": (
            "Reminder: we meet {day} {time} {place}. Book: {book}.",
            "Who's definitely coming tomorrow? I'll book a table",
            "I'll bring {food} 🙂",
            "Running {n} minutes late, start without me",
        ),
        "day": (
            "We're here, table by the window",
            "Running {n} minutes late, sorry!",
            "Where is everyone? 🙈",
            "I'll post photos tonight",
        ),
        "after": (
            "Thanks for yesterday, it was {adj}!",
            "Thank you all, that was {adj} 🤗",
            "Photos are in the archive channel",
            "Someone left an umbrella at the café 🙂",
        ),
        "caption": (
            "Our table today",
            "The shelf at the café",
            "My summer reading pile",
            "The view {place}",
            "",
            "",
            "",
        ),
        "review": ("Finished {book}.\nLiked: {plus}.\nDidn't: {minus}.\nScore: {score}/10",),
    },
    "mix": {
        "open": (
            "Привет! Sorry, my Russian is still basic — встреча {day}, да?",
            "Кто-нибудь has {book} in English?",
            "Я принесу {item}, okay?",
            "Let's discuss {book} — или это слишком длинная?",
        ),
        "reply": ("Да, {day} {time} 👍", "Окей, see you there!", "Спасибо, thanks!", "Ha, точно"),
        "before": ("Завтра буду! See you {place}",),
        "day": ("Я тут, where are you?",),
        "after": ("Спасибо! It was {adj}",),
        "caption": ("Our table / наш стол", ""),
        "review": ("{book}: {score}/10, очень {adj}",),
    },
}

NEWS_POSTS = (
    "📚 Новинки недели: {book}, {book2} и {book3}. Что из этого уже читали?",
    "Книга месяца — {book}. Делитесь впечатлениями!",
    "Подборка: пять книг для лета. Первая в списке — {book}.",
    "Букинистическая ярмарка {day} {place}. Приносите книги на обмен!",
)
BOT_TEXTS = (
    "⏰ Напоминание: встреча клуба завтра {time} {place}. Книга: {book}.",
    "📊 Неделя в клубе: {count} сообщений, самый активный — {name}.",
)
POLL_QUESTIONS = ("Какую книгу читаем следующей?", "Where do we meet next time?")
DOCUMENTS = (
    ("reading_list_summer_2025.pdf", 184_211),
    ("Правила клуба.pdf", 96_480),
    ("протокол встречи.docx", 31_772),
    ("book_swap.xlsx", 22_940),
    ("Пиранези — цитаты.txt", 8_410),
)
MIME = {
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
STICKER_EMOJI = ("😂", "👍", "❤", "🤔", "😴", "🎉", "☕")
SLUGS = ("piranesi", "stoner", "laurus", "roadside-picnic", "klara", "remains-of-the-day")

OPENER_SHAPES = {
    "text": 0.70, "review": 0.04, "forward": 0.06, "photo": 0.09, "voice": 0.03, "round": 0.01,
    "animation": 0.01, "video": 0.015, "document": 0.015, "audio": 0.004,
}  # fmt: skip
"""What a thread's first message is, with weights."""
FOLLOW_UP_SHAPES = {
    "text": 0.77, "photo": 0.04, "sticker": 0.08, "voice": 0.045, "round": 0.015,
    "animation": 0.025, "video": 0.005,
}  # fmt: skip
"""What a follow-up in a thread is, with weights."""

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_ENTITY = re.compile(r"https://\S+|@\w+|#\w+")


class Writer:
    """Fills templates: ``{word}`` from the word lists, ``{a}``/``{en}`` gender endings."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def fill(self, template: str, person: Person, extra: Mapping[str, str] | None = None) -> str:
        lang = "en" if person.lang == "en" else "ru"
        if person.lang == "mix" and self.rng.random() < 0.5:
            lang = "en"
        words = WORDS[lang]
        used: set[str] = set()

        def pick(match: re.Match[str]) -> str:
            key = match.group(1)
            if extra and key in extra:
                return extra[key]
            if key == "a":
                return "а" if person.fem else ""
            if key == "en":
                return "на" if person.fem else "ен"
            if key == "link":
                return f"https://books.example.org/{self.rng.choice(SLUGS)}"
            if key == "mention":
                handles = [p.username for p in PEOPLE if p.username and p is not person]
                return "@" + self.rng.choice(handles)
            options = [w for w in words[key.rstrip("0123456789")] if w not in used]
            word = self.rng.choice(options)
            used.add(word)
            return word

        return _PLACEHOLDER.sub(pick, template)


def text_fields(text: str, *, bold_titles: bool = False) -> dict[str, Any]:
    """Desktop's ``text`` and ``text_entities``: a string when the text is one plain
    part, else the array of strings and entity objects (links, mentions, hashtags and,
    in announcements, bold titles)."""
    pattern = _ENTITY if not bold_titles else re.compile(_ENTITY.pattern + r"|«[^»]+»")
    parts: list[dict[str, str]] = []
    at = 0
    for match in pattern.finditer(text):
        if match.start() > at:
            parts.append({"type": "plain", "text": text[at : match.start()]})
        token = match.group(0)
        kind = {"h": "link", "@": "mention", "#": "hashtag", "«": "bold"}[token[0]]
        parts.append({"type": kind, "text": token})
        at = match.end()
    if at < len(text):
        parts.append({"type": "plain", "text": text[at:]})
    if len(parts) <= 1 and all(p["type"] == "plain" for p in parts):
        return {"text": text, "text_entities": parts}
    shown: list[Any] = [p["text"] if p["type"] == "plain" else p for p in parts]
    return {"text": shown, "text_entities": parts}


# --- the conversation -----------------------------------------------------------------------


@dataclass
class Entry:
    """A message to write once every message has its id."""

    when: datetime
    key: int
    sender: Person | None
    fields: dict[str, Any] = field(default_factory=dict)
    service: str | None = None
    reply_key: int | None = None
    anonymous: bool = False


class Builder:
    """Builds the chat's entries day by day from one seeded RNG."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.words = Writer(self.rng)
        self.entries: list[Entry] = []
        self.next_key = 1

    def add(self, when: datetime, sender: Person | None, **kw: Any) -> Entry:
        entry = Entry(when, self.next_key, sender, **kw)
        self.next_key += 1
        self.entries.append(entry)
        return entry

    # helpers -------------------------------------------------------------------------------

    @staticmethod
    def at(day: date, hour: int, minute: int) -> datetime:
        return datetime.combine(day, time(hour, minute), LOCAL).astimezone(UTC)

    def times(self, day: date, n: int) -> list[datetime]:
        hours = list(range(10 if day == FIRST_DAY else 7, 24))  # the club opens at 9:00
        weights = [0.6 if h < 10 else 1.0 if h < 17 else 1.8 for h in hours]
        picked = sorted(
            (self.rng.choices(hours, weights)[0], self.rng.randrange(60), self.rng.randrange(60))
            for _ in range(n)
        )
        return [datetime.combine(day, time(h, m, s), LOCAL).astimezone(UTC) for h, m, s in picked]

    def someone(self, day: date, avoid: Person | None = None) -> Person:
        active = [p for p in PEOPLE if p.active(day) and p is not avoid]
        return self.rng.choices(active, [p.weight for p in active])[0]

    def reactions(self, day: datetime) -> list[dict[str, Any]]:
        rng = self.rng
        out: list[dict[str, Any]] = []
        for emoji in rng.sample(EMOJI, rng.choice((1, 1, 1, 2, 2, 3))):
            count = max(1, min(12, int(rng.paretovariate(1.5))))
            item: dict[str, Any] = {"type": "emoji", "count": count, "emoji": emoji}
            if count <= 3 and rng.random() < 0.35:
                reactors = rng.sample([p for p in PEOPLE if p.active(day.date())], count)
                item["recent"] = [
                    {
                        "from": p.name,
                        "from_id": p.ref,
                        "date": local_text(day + timedelta(minutes=rng.randint(1, 240))),
                    }
                    for p in reactors
                ]
            out.append(item)
        if rng.random() < 0.15:
            out.append(
                {
                    "type": "custom_emoji",
                    "count": rng.randint(1, 4),
                    "document_id": rng.choice(CUSTOM_EMOJI),
                }
            )
        if rng.random() < 0.03:
            out.append({"type": "paid", "count": rng.choice((1, 5, 10, 25, 50))})
        return out

    def phase(self, day: date) -> str:
        if day in MEETUPS:
            return "day"
        if day + timedelta(days=1) in MEETUPS:
            return "before"
        if day - timedelta(days=1) in MEETUPS:
            return "after"
        return "open"

    def book_of(self, day: date) -> str:
        index = sum(1 for m in MEETUPS if m < day) % len(WORDS["ru"]["book"])
        return WORDS["ru"]["book"][index]

    def text(self, person: Person, kind: str, day: date) -> str:
        lang = person.lang
        templates = TEXTS[lang].get(kind) or TEXTS["ru"][kind]
        if lang == "mix" and self.rng.random() < 0.5:
            templates = TEXTS["ru" if self.rng.random() < 0.5 else "en"][kind]
        extra = {"book": self.book_of(day)} if kind in ("before",) else None
        return self.words.fill(self.rng.choice(templates), person, extra)

    # message kinds ------------------------------------------------------------------------

    def media(self, kind: str) -> dict[str, Any]:
        rng = self.rng
        if kind == "photo":
            return {
                "photo": NOT_INCLUDED,
                "photo_file_size": rng.randint(60_000, 320_000),
                "width": 1280,
                "height": rng.choice((960, 1706, 1280)),
            }
        base: dict[str, Any] = {"file": NOT_INCLUDED}
        if kind == "sticker":
            base.update(
                file_name="sticker.webp",
                file_size=rng.randint(14_000, 48_000),
                thumbnail=NOT_INCLUDED,
                thumbnail_file_size=rng.randint(3_000, 9_000),
                media_type="sticker",
                sticker_emoji=rng.choice(STICKER_EMOJI),
                mime_type="image/webp",
                width=512,
                height=512,
            )
        elif kind == "voice":
            base.update(
                file_size=rng.randint(8_000, 160_000),
                media_type="voice_message",
                mime_type="audio/ogg",
                duration_seconds=rng.randint(2, 95),
            )
        elif kind == "round":
            base.update(
                file_size=rng.randint(300_000, 2_400_000),
                thumbnail=NOT_INCLUDED,
                thumbnail_file_size=rng.randint(4_000, 12_000),
                media_type="video_message",
                mime_type="video/mp4",
                duration_seconds=rng.randint(3, 45),
                width=400,
                height=400,
            )
        elif kind == "video":
            base.update(
                file_name=f"IMG_{rng.randint(1000, 9999)}.MP4",
                file_size=rng.randint(2_000_000, 48_000_000),
                thumbnail=NOT_INCLUDED,
                thumbnail_file_size=rng.randint(8_000, 30_000),
                media_type="video_file",
                mime_type="video/mp4",
                duration_seconds=rng.randint(5, 120),
                width=1080,
                height=1920,
            )
        elif kind == "animation":
            base.update(
                file_name="giphy.mp4",
                file_size=rng.randint(150_000, 1_800_000),
                thumbnail=NOT_INCLUDED,
                thumbnail_file_size=rng.randint(3_000, 9_000),
                media_type="animation",
                mime_type="video/mp4",
                width=480,
                height=rng.choice((270, 360, 480)),
            )
        elif kind == "audio":
            base.update(
                file_name="book_talk_episode_12.mp3",
                file_size=rng.randint(4_000_000, 9_000_000),
                media_type="audio_file",
                performer="Book Digest",
                title="Книжный разговор #12",
                mime_type="audio/mpeg",
                duration_seconds=rng.randint(900, 2400),
            )
        else:
            name, size = rng.choice(DOCUMENTS)
            base.update(file_name=name, file_size=size, mime_type=MIME[name[name.rindex(".") :]])
        return base

    def poll(self, day: date, person: Person) -> dict[str, Any]:
        books = self.rng.sample(list(WORDS["ru"]["book"]), 3)
        votes = [self.rng.randint(1, 7) for _ in books]
        answers = [
            {"text": book, "voters": v, "chosen": i == 0}
            for i, (book, v) in enumerate(zip(books, votes, strict=True))
        ]
        return {
            "poll": {
                "question": POLL_QUESTIONS[0],
                "closed": day < date(2025, 8, 20),
                "total_voters": sum(votes),
                "answers": answers,
            },
        }

    def message(
        self, when: datetime, person: Person, kind: str, follows: Entry | None, reply: bool
    ) -> Entry:
        """One regular message: a thread opener of ``kind`` (``open`` or the day's
        phase) when ``follows`` is None, else a follow-up (a reply to it if ``reply``)."""
        rng = self.rng
        day = when.astimezone(LOCAL).date()
        shapes = OPENER_SHAPES if follows is None else FOLLOW_UP_SHAPES
        shape = rng.choices(list(shapes), list(shapes.values()))[0]
        fields: dict[str, Any] = {}
        text = ""
        if shape == "forward":
            origins = [p.name for p in PEOPLE if p.name and p is not person and p.active(day)]
            fields["forwarded_from"] = rng.choice(
                (NEWS_CHANNEL, NEWS_CHANNEL, HIDDEN_FORWARD, rng.choice(origins))
            )
            text = self.words.fill(rng.choice(NEWS_POSTS), person)
        elif shape == "review":
            text = self.text(person, "review", day)
        elif shape == "text":
            text = self.text(person, kind if follows is None else "reply", day)
        else:
            fields.update(self.media(shape))
            if shape in ("photo", "video") and rng.random() < 0.6:
                text = self.text(person, "caption", day)
        fields.update(text_fields(text))
        if rng.random() < 0.3:
            fields["reactions"] = self.reactions(when)
        if text and rng.random() < 0.04:
            fields["edited"] = when + timedelta(seconds=rng.randint(20, 1800))
        reply_key = follows.key if follows is not None and reply else None
        return self.add(when, person, fields=fields, reply_key=reply_key)

    # the chat ----------------------------------------------------------------------------

    def services(self) -> list[Entry]:
        """The fixed service messages (pins and bot posts come with the days)."""
        photo = {"photo": NOT_INCLUDED, "photo_file_size": 41_236, "width": 640, "height": 640}
        plan: list[tuple[datetime, Person, dict[str, Any]]] = [
            (self.at(FIRST_DAY, 9, 0), ANNA, {"action": "create_channel", "title": OLD_TITLE}),
            (
                self.at(FIRST_DAY, 9, 2),
                ANNA,
                {"action": "invite_members", "members": [p.name for p in FOUNDERS]},
            ),
            (self.at(FIRST_DAY, 9, 4), ANNA, {"action": "edit_group_photo", **photo}),
            (
                self.at(date(2025, 3, 9), 12, 31),
                OLIVIA,
                {"action": "join_group_by_link", "inviter": ANNA.name},
            ),
            (
                self.at(date(2025, 3, 15), 18, 2),
                NOAH,
                {"action": "join_group_by_link", "inviter": ANNA.name},
            ),
            (
                self.at(date(2025, 4, 5), 9, 15),
                EMILY,
                {"action": "invite_members", "members": [JAMES.name]},
            ),
            (
                self.at(date(2025, 4, 12), 10, 0),
                ANNA,
                {"action": "edit_group_title", "title": TITLE},
            ),
            (
                self.at(date(2025, 4, 12), 10, 1),
                ANNA,
                {"action": "edit_group_photo", **photo, "photo_file_size": 52_817},
            ),
            (self.at(date(2025, 5, 14), 19, 0), ANNA, {"action": "group_call", "duration": 5412}),
            (
                self.at(date(2025, 6, 7), 11, 47),
                LIZA,
                {"action": "join_group_by_link", "inviter": ANNA.name},
            ),
            (
                self.at(date(2025, 7, 5), 16, 20),
                TOM,
                {"action": "join_group_by_link", "inviter": ANNA.name},
            ),
            (self.at(date(2025, 7, 16), 19, 0), ANNA, {"action": "group_call", "duration": 4280}),
            (
                self.at(date(2025, 8, 16), 8, 55),
                TOM,
                {"action": "remove_members", "members": [TOM.name]},
            ),
        ]
        return [self.add(when, who, fields=f, service=str(f["action"])) for when, who, f in plan]

    def announcement(self, day: date) -> Entry:
        """The anonymous admin's meetup announcement, pinned a minute later."""
        place = self.rng.choice(WORDS["ru"]["place"])
        when = self.at(day, 10, 30)
        text = (
            f"Встреча клуба в субботу в 12:00 {place}. Обсуждаем {self.book_of(day)}.\n"
            f"Meetup on Saturday at noon. Приходите! #встреча"
        )
        fields = text_fields(text, bold_titles=True)
        fields["reactions"] = self.reactions(when)
        entry = self.add(when, None, fields=fields, anonymous=True)
        self.add(
            when + timedelta(minutes=1),
            ANNA,
            service="pin_message",
            reply_key=entry.key,
            fields={"action": "pin_message"},
        )
        return entry

    def build(self, total: int = TOTAL_MESSAGES) -> list[Entry]:
        services = self.services()
        days = [FIRST_DAY + timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]
        fixed = len(services) + 3 * sum(1 for d in days if d + timedelta(days=1) in MEETUPS)
        fixed += sum(1 for d in days if d.weekday() == 0) + 7  # weekly bot posts, polls
        counts = allocate(total - fixed, [self.weight(d) for d in days])
        for day, n in zip(days, counts, strict=True):
            self.day(day, n)
        return self.entries

    def weight(self, day: date) -> float:
        w = 1.0 + 0.3 * (day.weekday() >= 5)
        phase = self.phase(day)
        w *= {"day": 2.2, "before": 1.6, "after": 1.5, "open": 1.0}[phase]
        if day.month in (7, 8):
            w *= 0.75
        if day < FIRST_DAY + timedelta(days=7):
            w *= 0.6
        return w

    def day(self, day: date, n: int) -> None:
        phase = self.phase(day)
        if phase == "before":
            self.announcement(day)
            self.add(
                self.at(day, 10, 0),
                BOT,
                fields=text_fields(
                    self.words.fill(
                        BOT_TEXTS[0], ANNA, {"time": "в 12:00", "book": self.book_of(day)}
                    )
                ),
            )
        if day.weekday() == 0:
            name = self.someone(day).name or "—"
            text = self.words.fill(BOT_TEXTS[1], ANNA, {"count": str(150 + n * 4), "name": name})
            self.add(self.at(day, 9, 0), BOT, fields=text_fields(text))
        if day in MEETUPS[1::2] or day == date(2025, 8, 27):
            who = ANNA if self.rng.random() < 0.6 else self.someone(day)
            self.add(self.at(day, 20, 15), who, fields={**self.poll(day, who), **text_fields("")})
        thread: list[Entry] = []
        opener: Entry | None = None
        last: Person | None = None
        for when in self.times(day, n):
            person = self.someone(day, avoid=last)
            if opener is None or self.rng.random() < 0.3:
                opener = self.message(when, person, phase, None, reply=False)
                thread = [opener]
            else:
                target = opener if self.rng.random() < 0.55 else self.rng.choice(thread)
                reply = self.rng.random() < 0.55
                thread.append(self.message(when, person, phase, target, reply=reply))
            last = person


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder, deterministic)."""
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def local_text(when: datetime) -> str:
    return when.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M:%S")


def unix_text(when: datetime) -> str:
    return str(int(when.timestamp()))


def desktop_message(entry: Entry, ids: Mapping[int, int]) -> dict[str, Any]:
    """The Desktop JSON object of an entry, keys in Desktop's order."""
    f = dict(entry.fields)
    obj: dict[str, Any] = {
        "id": ids[entry.key],
        "type": "service" if entry.service else "message",
        "date": local_text(entry.when),
        "date_unixtime": unix_text(entry.when),
    }
    edited = f.pop("edited", None)
    if edited is not None:
        obj["edited"] = local_text(edited)
        obj["edited_unixtime"] = unix_text(edited)
    text = f.pop("text", "")
    entities = f.pop("text_entities", [])
    reactions = f.pop("reactions", None)
    if entry.service:
        assert entry.sender is not None
        obj["actor"] = entry.sender.name
        obj["actor_id"] = entry.sender.ref
        obj["action"] = f.pop("action")
        obj.update(f)
        if entry.reply_key is not None:
            obj["message_id"] = ids[entry.reply_key]
    else:
        if entry.anonymous:
            obj["from"] = TITLE
            obj["from_id"] = f"channel{CHAT_ID}"
            obj["author"] = ADMIN_SIGNATURE
        else:
            assert entry.sender is not None
            obj["from"] = entry.sender.name
            obj["from_id"] = entry.sender.ref
        if "forwarded_from" in f:
            obj["forwarded_from"] = f.pop("forwarded_from")
        if entry.reply_key is not None:
            obj["reply_to_message_id"] = ids[entry.reply_key]
        obj.update(f)
    obj["text"] = text
    obj["text_entities"] = entities
    if reactions:
        obj["reactions"] = reactions
    return obj


def numbered(entries: Sequence[Entry], rng: random.Random) -> dict[int, int]:
    """Message ids in date order, with the gaps deleted messages leave."""
    ids: dict[int, int] = {}
    next_id = 1
    for entry in entries:
        ids[entry.key] = next_id
        next_id += 1 + (rng.randint(1, 3) if rng.random() < 0.02 else 0)
    return ids


def build_export(seed: int = SEED) -> dict[str, Any]:
    """The whole ``result.json`` document."""
    builder = Builder(seed)
    entries = sorted(builder.build(), key=lambda e: (e.when, e.key))
    ids = numbered(entries, builder.rng)
    return {
        "name": TITLE,
        "type": CHAT_TYPE,
        "id": CHAT_ID,
        "messages": [desktop_message(e, ids) for e in entries],
    }


def render(document: Mapping[str, Any]) -> str:
    """Desktop's layout: one space of indent per level, UTF-8 unescaped."""
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def iter_summary(document: Mapping[str, Any]) -> Iterator[str]:
    messages = document["messages"]
    service = sum(1 for m in messages if m["type"] == "service")
    yield f"{document['name']}: {len(messages)} messages ({service} service)"
    yield f"{messages[0]['date']} – {messages[-1]['date']} (UTC+3)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=OUT, help="where to write")
    args = parser.parse_args(argv)
    document = build_export()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(document), encoding="utf-8")
    for line in iter_summary(document):
        print(line)
    print(f"written: {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
