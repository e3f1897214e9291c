"""The demo account's Telegram world, generated deterministically for ``scripts/demo``.

"Demo Pilot" (@demo_pilot) sees ten people (Russian and English speakers), two bots, a
family basic group, two supergroups — the public ``@tgpilot_demo_club``, a reading club
whose chat runs from September to November 2025 with about 1,500 messages in Russian
and English (replies, forwards, edits, emoji/custom/paid reactions, photos, videos,
documents, voice notes, stickers and a few service messages), and a private team chat —
two channels (the public ``@tgpilot_demo_news`` and an archived private photo archive)
and private chats. Dialogs carry unread counts; the club is pinned, the photo archive is
archived.

Everything comes from one seeded RNG and fixed dates (messages between 2025-09-01 and
2025-11-30 UTC, "now" is 2025-12-01 09:00 UTC), so two builds are identical::

    from sample.build_world import build_world
    world = build_world()

    python -m sample.build_world OUT.pickle      # write it with FakeTelegram.save
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.fakes.telegram import (
    PAID,
    ActionRec,
    ChatRec,
    FakeTelegram,
    ForwardRec,
    MediaRec,
    UserRec,
    document,
    gif,
    photo,
    round_video,
    sticker,
    video,
    voice,
)

SEED = 20250901
NOW = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
FIRST_DAY = date(2025, 9, 1)
LAST_DAY = date(2025, 11, 30)

ME_ID = 6_100_000_001
ME_USERNAME = "demo_pilot"
ME_PHONE = "+1 555 010 0001"

CLUB_ID = 2_048_576_001
CLUB_USERNAME = "tgpilot_demo_club"
CLUB_TITLE = "Demo Club: книги и кофе"
CLUB_OLD_TITLE = "Demo Club"
CLUB_MESSAGES = 1500

TEAM_ID = 2_093_311_447
TEAM_TITLE = "Team Falcon · standups"

NEWS_ID = 1_874_003_215
NEWS_USERNAME = "tgpilot_demo_news"
NEWS_TITLE = "Book Digest · книжные новости"
NEWS_LINK = f"https://t.me/{NEWS_USERNAME}"

ARCHIVE_ID = 1_955_120_804
ARCHIVE_TITLE = "Фотоархив клуба"

FAMILY_ID = 908_172_635
FAMILY_TITLE = "Семья Орловых"

WEATHER_BOT = "demo_weather_bot"
REMINDER_BOT = "demo_reminder_bot"

#: Custom emoji (document ids) used as reactions in the club.
CUSTOM_EMOJI = (5368324170671202286, 5377305978079288312, 5420315771991497307)
CLUB_EMOJI = ("👍", "❤", "🔥", "😁", "👏", "🤔", "🎉", "🙏", "💯", "🤝", "😍", "🤣")
NEWS_EMOJI = ("👍", "❤", "🔥", "🎉", "🤔")

#: Reading-club meetups (every second Saturday).
MEETUPS = tuple(date(2025, 9, 6) + timedelta(days=14 * n) for n in range(7))


@dataclass(frozen=True)
class Person:
    """A user of the world plus how they write: language, grammatical gender."""

    rec: UserRec
    lang: str  # "ru", "en" or "mix" (writes both)
    fem: bool
    joined: date = FIRST_DAY
    chattiness: float = 1.0


@dataclass
class Draft:
    """A message to add once every earlier message has its id."""

    chat: ChatRec | UserRec
    date: datetime
    key: int
    fields: dict[str, Any] = field(default_factory=dict)
    reply_key: int | None = None
    forward_key: int | None = None
    pin_key: int | None = None


# --- word lists -------------------------------------------------------------------------

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
        ),
        "place": (
            "в «Кофемании» на Никитской",
            "в парке Горького",
            "на Патриарших",
            "в Зарядье",
            "в Нескучном саду",
            "на ВДНХ",
            "в «Циферблате» на Тверской",
            "в библиотеке им. Некрасова",
            "у «Библио-Глобуса»",
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
        ),
        "item": (
            "пару детективов",
            "Стругацких",
            "сборник Чехова",
            "свою «Дюну»",
            "два тома Пелевина",
            "Улицкую",
        ),
        "coffee": ("отличный", "так себе", "дорогой, но вкусный", "с корицей просто 🔥"),
        "food": ("пирог", "печенье", "мандарины", "термос с чаем"),
        "weather": ("дождь", "солнце", "ветер", "первый снег", "туман"),
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
            "Tomorrow, and Tomorrow, and Tomorrow",
            "Laurus",
        ),
        "place": (
            "at Gorky Park",
            "near Patriarch's Ponds",
            "in Zaryadye",
            "at the café on Nikitskaya",
            "at VDNKh",
            "in Neskuchny Garden",
            "at Tsiferblat on Tverskaya",
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
        "food": ("cookies", "a cake", "tangerines", "a thermos of tea"),
        "weather": ("rain", "sunshine", "wind", "the first snow", "fog"),
    },
}

CLUB_TEXT: dict[str, dict[str, Sequence[str]]] = {
    "ru": {
        "open": (
            "Всем привет! Кто идёт {day} {place}?",
            "Дочитал{a} {book}, концовка {opinion}.",
            "Кто-нибудь читал {book}? Стоит брать?",
            "Могу принести {item} для обмена.",
            "Голосуем за книгу месяца: {book} или {book2}?",
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
            "Моя стопка на осень",
            "Вид из окна {place}",
            "",
            "",
        ),
    },
    "en": {
        "open": (
            "Hi all! Who's coming {day} {place}?",
            "Just finished {book} — {opinion}.",
            "Has anyone read {book}? Worth it?",
            "I can bring {item} for the swap.",
            "Vote for the book of the month: {book} or {book2}?",
            "The coffee {place} is {coffee}, by the way.",
            "Started {book} on your recommendation, so far so good.",
            "Could we do {book} next time?",
            "It's {weather} outside, perfect reading weather 📖",
            "Is there a quiet spot to read {place}?",
            "Anyone up for an online session for those who moved away?",
            "What is everyone reading right now? 👇",
            "Halfway through {book} and {opinion}.",
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
            "My autumn reading pile",
            "The view {place}",
            "",
            "",
        ),
    },
    "mix": {
        "open": (
            "Привет! Sorry, my Russian is still basic — встреча {day}, да?",
            "Кто-нибудь has {book} in English?",
            "Я принесу {item}, okay?",
            "Let's discuss {book} — или это слишком длинная?",
        ),
        "reply": (
            "Да, {day} {time} 👍",
            "Окей, see you there!",
            "Спасибо, thanks!",
            "Ha, точно",
        ),
        "before": ("Завтра буду! See you {place}",),
        "day": ("Я тут, where are you?",),
        "after": ("Спасибо! It was {adj}",),
        "caption": ("Our table / наш стол", ""),
    },
}

DOCUMENTS = (
    ("reading_list_autumn_2025.pdf", "application/pdf"),
    ("Список книг на осень.docx", None),
    ("club_rules.pdf", "application/pdf"),
    ("протокол встречи.pdf", "application/pdf"),
    ("book_swap.xlsx", None),
)

NEWS_POSTS = {
    "ru": (
        "📚 Новинки недели: {book}, {book2} и {book3}. Что из этого уже читали?",
        "Встреча клуба {day} {time} {place}: обсуждаем {book}. Чат: https://t.me/{club}",
        "Книга месяца — {book}. Делитесь впечатлениями в клубе!",
        "Подборка: пять книг для дождливой осени. Первая в списке — {book}.",
        "Итоги голосования: следующая книга — {book}.",
        "Букинистическая ярмарка {day} {place}. Приносите книги на обмен!",
    ),
    "en": (
        "📚 New this week: {book}, {book2} and {book3}.",
        "Club meetup {day} {time} {place}: we discuss {book}. Chat: https://t.me/{club}",
        "Book of the month: {book}. Tell us what you think in the club!",
        "Five books for a rainy autumn, starting with {book}.",
    ),
}

STANDUP = {
    "ru": (
        "Вчера: {done}. Сегодня: {todo}. Блокеров нет.",
        "Вчера {done}, сегодня {todo}. Жду ревью.",
        "Сегодня {todo}. Блокер: {blocker}.",
    ),
    "en": (
        "Yesterday: {done}. Today: {todo}. No blockers.",
        "Done: {done}. Next: {todo}.",
        "Today {todo}. Blocked by {blocker}.",
    ),
}
TEAM_WORDS = {
    "ru": {
        "done": (
            "закрыл{a} ревью PR #{pr}",
            "допилил{a} миграцию схемы",
            "разобрал{a} флейки в тестах экспорта",
            "написал{a} release notes",
            "обновил{a} дашборд метрик",
        ),
        "todo": (
            "берусь за кэш диалогов",
            "пишу тесты на резолвер",
            "смотрю падение в CI",
            "созвон с дизайном в 15:00",
            "готовлю демо на пятницу",
        ),
        "blocker": ("жду доступ к стенду", "не хватает ревьюеров", "падает CI на main"),
        "chat": (
            "Кто посмотрит PR #{pr}? Там немного",
            "CI снова зелёный 🎉",
            "Созвон переносим на 16:00",
            "Я сегодня до обеда у врача",
            "Ретро в пятницу, накидайте пункты в документ",
            "Релиз 0.{pr} выкатили",
        ),
    },
    "en": {
        "done": (
            "reviewed PR #{pr}",
            "finished the schema migration",
            "fixed the flaky export tests",
            "wrote the release notes",
            "updated the metrics dashboard",
        ),
        "todo": (
            "picking up the dialog cache",
            "writing resolver tests",
            "looking into the CI failure",
            "design sync at 3 pm",
            "preparing Friday's demo",
        ),
        "blocker": ("staging access", "waiting for review", "red CI on main"),
        "chat": (
            "Could someone look at PR #{pr}? It's small",
            "CI is green again 🎉",
            "Moving the sync to 4 pm",
            "Out until lunch today",
            "Retro on Friday, add your points to the doc",
            "Shipped release 0.{pr}",
        ),
    },
}

#: Private-chat exchanges: (who, text) lines, "me" or "them"; picked and placed by date.
PRIVATE_SCRIPTS: dict[str, Sequence[Sequence[tuple[str, str]]]] = {
    "anna_smirnova": (
        (
            ("them", "Привет! Ты {day} будешь на встрече?"),
            ("me", "Да, конечно. Принести что-нибудь?"),
            ("them", "Возьми {food}, пожалуйста 🙂"),
        ),
        (("them", "Слушай, можешь закрепить в клубе голосование?"), ("me", "Сделал 👍")),
        (("me", "Как тебе {book}?"), ("them", "Если честно, {opinion}.")),
        (("them", "Я забронировала стол {place}"), ("me", "Супер, спасибо!"), ("them", "😊")),
        (("them", "Ты видел новый пост в Book Digest?"), ("me", "Да, уже переслал в клуб")),
    ),
    "dvolkov": (
        (
            ("them", "Го в выходные в поход?"),
            ("me", "Если не будет дождя — да"),
            ("them", "Прогноз норм, {weather} только в пятницу"),
        ),
        (("me", "Дим, скинь фотки с прогулки"), ("them", "Сейчас")),
        (("them", "Ты где? Я у метро"), ("me", "Бегу, 5 минут")),
    ),
    "ekaterina": (
        (("them", "Сынок, ты поел?"), ("me", "Да, мам 🙂"), ("them", "Молодец. Позвони бабушке")),
        (
            ("them", "В субботу едем на дачу, ты с нами?"),
            ("me", "Не смогу, у меня встреча клуба"),
            ("them", "Жаль. Тогда в следующий раз"),
        ),
        (("me", "Мам, я доехал"), ("them", "Хорошо ❤")),
        (("them", "Купи, пожалуйста, {food} к чаю"), ("me", "Ок")),
    ),
    "skuznetsov_dev": (
        (("them", "Посмотришь мой PR сегодня?"), ("me", "Да, после обеда"), ("them", "Thanks!")),
        (("me", "Did you see the CI failure?"), ("them", "Да, уже чиню")),
        (("them", "Завтра стендап переносится на 11"), ("me", "Принято")),
    ),
    "masha_lebedeva": (
        (("them", "Привет! Дашь почитать {book}?"), ("me", "Конечно, принесу на встречу")),
        (("them", "Спасибо за книгу! Верну {day}"), ("me", "Не торопись 🙂")),
    ),
    "emily_carter": (
        (
            ("them", "Hey! Is the meetup {day} still on?"),
            ("me", "Yes, {time} {place}"),
            ("them", "Great, see you there!"),
        ),
        (("me", "Did you finish {book}?"), ("them", "Almost — {opinion}.")),
        (
            ("them", "How do you say 'bookmark' in Russian?"),
            ("me", "«Закладка» 🙂"),
            ("them", "Закладка! Thanks"),
        ),
    ),
    "jwhitfield": (
        (
            ("them", "Thanks for adding me to the club!"),
            ("me", "Welcome 🙂 Meetups are every other Saturday"),
        ),
        (("me", "Are you coming {day}?"), ("them", "Probably, if work lets me")),
    ),
    "olivia_reads": (
        (
            ("them", "Hi! Found the club through Book Digest 🙂"),
            ("me", "Welcome! The next meetup is {day}"),
        ),
        (
            ("them", "Could you recommend something short?"),
            ("me", "Try {book}"),
            ("them", "Thanks!"),
        ),
    ),
}

WEATHER = ("ясно", "облачно", "дождь", "пасмурно", "небольшой снег", "туман")


class Picker(Mapping[str, str]):
    """``str.format_map`` values: each key draws a word (no repeats within one text).

    ``book2`` draws from ``book`` too; a drawn word may hold placeholders of its own.
    """

    def __init__(
        self, rng: random.Random, lists: Mapping[str, Sequence[str]], fixed: dict[str, str]
    ):
        self._rng = rng
        self._lists = lists
        self._fixed = fixed
        self._used: dict[str, set[str]] = {}

    def __getitem__(self, key: str) -> str:
        if key in self._fixed:
            return self._fixed[key]
        base = re.sub(r"\d+$", "", key)
        if base == "n":
            return str(self._rng.choice((5, 10, 15, 20)))
        if base == "pr":
            return str(self._rng.randint(12, 240))
        options = self._lists.get(base)
        if options is None:
            raise KeyError(key)
        used = self._used.setdefault(base, set())
        fresh = [o for o in options if o not in used] or list(options)
        word = self._rng.choice(fresh)
        used.add(word)
        return word.format_map(self) if "{" in word else word

    def __iter__(self) -> Iterator[str]:
        return iter(self._fixed)

    def __len__(self) -> int:
        return len(self._fixed)


def all_days() -> list[date]:
    days = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        days.append(day)
        day += timedelta(days=1)
    return days


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder, deterministic)."""
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


class WorldBuilder:
    """Builds the demo world; one instance, one seeded RNG, used once."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.world = FakeTelegram(seed=seed, now=NOW)
        self.drafts: list[Draft] = []
        self._next_key = 1
        self.news_posts: list[tuple[int, datetime, str]] = []

    # helpers ------------------------------------------------------------------------

    def text(
        self,
        template: str,
        lang: str,
        fem: bool = False,
        extra: Mapping[str, Sequence[str]] | None = None,
    ) -> str:
        """``template`` filled from the word lists of ``lang`` (``{a}``: feminine ending)."""
        lists = dict(WORDS["ru" if lang == "ru" else "en"])
        if lang == "mix":
            lists.update(day=WORDS["ru"]["day"], time=WORDS["ru"]["time"])
        lists.update(extra or {})
        fixed = {"a": "а" if fem else "", "en": "на" if fem else "ен", "club": CLUB_USERNAME}
        return template.format_map(Picker(self.rng, lists, fixed))

    def at(self, day: date, *, start: int = 5, end: int = 20) -> datetime:
        """A random moment of ``day`` between ``start`` and ``end`` o'clock UTC."""
        hours = list(range(start, end + 1))
        weights = [1.0 + (h >= 14) * 1.5 for h in hours]
        hour = self.rng.choices(hours, weights)[0]
        return datetime(
            day.year, day.month, day.day, hour, self.rng.randrange(60), self.rng.randrange(60),
            tzinfo=UTC,
        )  # fmt: skip

    def times(self, day: date, n: int, **bounds: int) -> list[datetime]:
        return sorted(self.at(day, **bounds) for _ in range(n))

    def draft(self, chat: ChatRec | UserRec, when: datetime, **fields: Any) -> Draft:
        reply_key = fields.pop("reply_key", None)
        forward_key = fields.pop("forward_key", None)
        pin_key = fields.pop("pin_key", None)
        d = Draft(chat, when, self._next_key, fields, reply_key, forward_key, pin_key)
        self._next_key += 1
        self.drafts.append(d)
        return d

    def reactions(self, *, emoji: Sequence[str], custom: bool, paid: float) -> list[Any]:
        chosen = self.rng.sample(list(emoji), self.rng.choice((1, 1, 1, 2, 2, 3)))
        out: list[Any] = []
        for n, e in enumerate(chosen):
            count = max(1, int(self.rng.paretovariate(1.6)))
            mine = n == 0 and self.rng.random() < 0.15
            out.append((e, count, mine) if mine else (e, count))
        if custom and self.rng.random() < 0.2:
            out.append((self.rng.choice(CUSTOM_EMOJI), self.rng.randint(1, 3)))
        if self.rng.random() < paid:
            out.append((PAID, self.rng.choice((1, 1, 5, 10, 25, 50))))
        return out

    def media(self, kind: str, lang: str) -> MediaRec:
        rng = self.rng
        if kind == "photo":
            return photo(rng.randint(80_000, 400_000), width=1280, height=rng.choice((960, 1706)))
        if kind == "video":
            return video(rng.randint(2_000_000, 30_000_000), duration=rng.randint(5, 90))
        if kind == "document":
            name, mime = rng.choice(DOCUMENTS)
            return document(rng.randint(20_000, 900_000), name, mime_type=mime)
        if kind == "voice":
            return voice(rng.randint(8_000, 120_000), duration=rng.randint(2, 75))
        if kind == "sticker":
            return sticker(rng.randint(15_000, 60_000))
        if kind == "gif":
            return gif(rng.randint(200_000, 1_500_000))
        return round_video(rng.randint(300_000, 2_000_000), duration=rng.randint(3, 30))

    # the world ------------------------------------------------------------------------

    def build(self) -> FakeTelegram:
        self.people()
        self.chats()
        self.news_channel()
        self.photo_archive()
        self.club_chat()
        self.team_chat()
        self.family_chat()
        self.private_chats()
        self.bot_chats()
        self.flush()
        self.dialog_state()
        return self.world

    def people(self) -> None:
        w = self.world
        self.me = w.add_me(ME_ID, "Demo", "Pilot", username=ME_USERNAME, phone=ME_PHONE)
        self.me_person = Person(self.me, "ru", fem=False)

        def user(n: int, first: str, last: str | None, username: str | None, **kw: Any) -> UserRec:
            return w.add_user(6_100_000_100 + n, first, last, username, contact=True, **kw)

        self.anna = Person(user(1, "Анна", "Смирнова", "anna_smirnova"), "ru", True, chattiness=2.0)
        self.dmitry = Person(user(2, "Дмитрий", "Волков", "dvolkov"), "ru", False, chattiness=1.3)
        self.ekaterina = Person(user(3, "Екатерина", "Орлова", None), "ru", True)
        self.sergey = Person(user(4, "Сергей", "Кузнецов", "skuznetsov_dev"), "mix", False)
        self.maria = Person(user(5, "Мария", "Лебедева", "masha_lebedeva"), "ru", True)
        self.alexey = Person(user(6, "Алексей", "Орлов", None), "ru", False)
        self.emily = Person(user(7, "Emily", "Carter", "emily_carter", premium=True), "en", True)
        self.james = Person(
            user(8, "James", "Whitfield", "jwhitfield"), "en", False, joined=date(2025, 9, 20)
        )
        self.olivia = Person(
            user(9, "Olivia", "Bennett", "olivia_reads"), "en", True, joined=date(2025, 9, 14)
        )
        self.noah = Person(
            user(10, "Noah", "Fischer", "noahfischer"), "mix", False, joined=date(2025, 10, 6)
        )
        self.weather_bot = w.add_user(
            6_200_000_001, "Weather Bot", None, WEATHER_BOT, bot=True, about="Погода по запросу"
        )
        self.reminder_bot = w.add_user(
            6_200_000_002, "Reminder Bot", None, REMINDER_BOT, bot=True, about="Напоминалки"
        )

    def chats(self) -> None:
        w = self.world
        self.club_members = [
            self.me_person, self.anna, self.dmitry, self.sergey, self.maria,
            self.emily, self.james, self.olivia, self.noah,
        ]  # fmt: skip
        self.news = w.add_channel(
            NEWS_ID,
            NEWS_TITLE,
            NEWS_USERNAME,
            creator=True,
            reactions=NEWS_EMOJI,
            about="Книжные новости и анонсы встреч Demo Club",
            date=datetime(2023, 3, 14, 10, 0, tzinfo=UTC),
            participants_count=2_341,
            signatures=True,
        )
        self.archive = w.add_channel(
            ARCHIVE_ID,
            ARCHIVE_TITLE,
            creator=True,
            about="Фото со встреч клуба",
            date=datetime(2024, 10, 10, 18, 0, tzinfo=UTC),
            participants_count=12,
            folder=1,  # archived
        )
        self.club = w.add_supergroup(
            CLUB_ID,
            CLUB_TITLE,
            CLUB_USERNAME,
            members=[p.rec for p in self.club_members],
            creator=True,
            reactions="all+custom",
            about="Читаем, спорим, пьём кофе. Встречи раз в две недели в Москве.",
            date=datetime(2025, 9, 1, 8, 0, tzinfo=UTC),
            participants_count=143,
            pinned=True,
        )
        self.team_members = [self.me_person, self.sergey, self.noah, self.emily, self.dmitry]
        self.team = w.add_supergroup(
            TEAM_ID,
            TEAM_TITLE,
            members=[p.rec for p in self.team_members],
            admin_rights=["pin_messages", "invite_users"],
            date=datetime(2024, 2, 5, 9, 0, tzinfo=UTC),
        )
        self.family_members = [self.me_person, self.ekaterina, self.alexey]
        self.family = w.add_group(
            FAMILY_ID,
            FAMILY_TITLE,
            members=[self.ekaterina.rec, self.alexey.rec],
            date=datetime(2019, 6, 1, 17, 0, tzinfo=UTC),
        )

    # channels --------------------------------------------------------------------------

    def news_channel(self) -> None:
        for day in all_days():
            if day.weekday() not in (0, 2, 4) or self.rng.random() < 0.15:
                continue
            lang = "ru" if self.rng.random() < 0.7 else "en"
            meetup = next((m for m in MEETUPS if 0 < (m - day).days <= 5), None)
            template = (
                NEWS_POSTS[lang][1] if meetup and self.rng.random() < 0.7
                else self.rng.choice(NEWS_POSTS[lang])
            )  # fmt: skip
            text = self.text(template, lang)
            when = self.at(day, start=6, end=9)
            views = self.rng.randint(700, 4_800)
            d = self.draft(
                self.news,
                when,
                text=text,
                media=self.media("photo", lang) if self.rng.random() < 0.3 else None,
                views=views,
                forwards=self.rng.randint(1, views // 150),  # views need forwards (TL flag)
                reactions=self.reactions(emoji=NEWS_EMOJI, custom=False, paid=0.15),
                post_author="Demo Pilot",
            )
            self.news_posts.append((d.key, when, text))

    def photo_archive(self) -> None:
        for n, day in enumerate(MEETUPS):
            if day > LAST_DAY:
                break
            when = datetime(day.year, day.month, day.day, 18, 30, tzinfo=UTC)
            album = 10_000_000 + n
            for i in range(self.rng.randint(2, 5)):
                caption = f"Встреча {day:%d.%m}: {self.text('{book}', 'ru')}" if i == 0 else ""
                self.draft(
                    self.archive,
                    when + timedelta(seconds=i),
                    text=caption,
                    media=self.media("photo", "ru"),
                    grouped_id=album,
                    views=self.rng.randint(5, 12),
                    forwards=self.rng.randint(1, 3),
                )

    # the club ------------------------------------------------------------------------

    def club_services(self) -> list[tuple[datetime, dict[str, Any]]]:
        me = self.me.id

        def ts(m: int, d: int, h: int, mi: int) -> datetime:
            return datetime(2025, m, d, h, mi, tzinfo=UTC)

        return [
            (ts(9, 1, 8, 0), {"sender": me, "action": ActionRec("channel_create", CLUB_OLD_TITLE)}),
            (ts(9, 14, 9, 12), {"sender": self.olivia.rec, "action": ActionRec("joined_by_link", users=(me,))}),  # noqa: E501
            (ts(9, 20, 7, 40), {"sender": me, "action": ActionRec("add_user", users=(self.james.rec.id,))}),  # noqa: E501
            (ts(10, 1, 10, 5), {"sender": me, "action": ActionRec("edit_title", CLUB_TITLE)}),
            (ts(10, 6, 16, 3), {"sender": self.noah.rec, "action": ActionRec("joined_by_link", users=(me,))}),  # noqa: E501
        ]  # fmt: skip

    def club_chat(self) -> None:
        rng = self.rng
        services = self.club_services()
        rules_at = datetime(2025, 9, 1, 8, 5, tzinfo=UTC)
        rules = self.draft(
            self.club,
            rules_at,
            sender=self.me,
            text=(
                "Добро пожаловать в Demo Club! Welcome! 📚\n"
                "Правила: встречаемся раз в две недели, книгу выбираем голосованием, "
                "спойлеры — под тег #spoiler. Анонсы: " + NEWS_LINK
            ),
        )
        self.draft(self.club, rules_at + timedelta(seconds=30), sender=self.me,
                   action=ActionRec("pin"), pin_key=rules.key)  # fmt: skip
        regular = CLUB_MESSAGES - len(services) - 2
        days = all_days()
        weights = []
        for day in days:
            weight = 1.0 + 0.6 * (day.weekday() >= 5)
            if day in MEETUPS:
                weight = 2.6
            elif any(0 < (m - day).days <= 2 for m in MEETUPS):
                weight *= 1.8
            elif any((day - m).days == 1 for m in MEETUPS):
                weight *= 2.0
            weight *= 0.4 + 1.2 * rng.random()
            weights.append(weight)
        counts = allocate(regular, weights)
        recent: list[tuple[int, int]] = []  # (draft key, sender id)
        service_at = {when.date(): (when, fields) for when, fields in services}
        for day, count in zip(days, counts, strict=True):
            start = 9 if day == FIRST_DAY else 5  # the club was created at 08:00
            slots: list[tuple[datetime, dict[str, Any] | None]] = [
                (t, None) for t in self.times(day, count, start=start)
            ]
            if day in service_at:
                slots.append(service_at[day])
                slots.sort(key=lambda s: s[0])
            phase = self.phase(day)
            for when, service in slots:
                if service is not None:
                    self.draft(self.club, when, **service)
                    continue
                self.club_message(day, when, phase, recent)

    @staticmethod
    def phase(day: date) -> str:
        if day in MEETUPS:
            return "day"
        if any(0 < (m - day).days <= 2 for m in MEETUPS):
            return "before"
        if any((day - m).days == 1 for m in MEETUPS):
            return "after"
        return "normal"

    def club_message(
        self, day: date, when: datetime, phase: str, recent: list[tuple[int, int]]
    ) -> None:
        rng = self.rng
        members = [p for p in self.club_members if p.joined <= day]
        speaker = rng.choices(members, [p.chattiness for p in members])[0]
        lang = speaker.lang
        if lang == "mix":
            lang = "mix" if rng.random() < 0.5 else rng.choice(("ru", "en"))
        elif rng.random() < 0.08:
            lang = "en" if lang == "ru" else "mix"
        pool = CLUB_TEXT[lang]
        fields: dict[str, Any] = {"sender": speaker.rec}
        roll = rng.random()
        others = [k for k, sender in recent[-15:] if sender != speaker.rec.id]
        if roll < 0.22 and others:
            fields["reply_key"] = rng.choice(others)
            fields["text"] = self.text(rng.choice(pool["reply"]), lang, speaker.fem)
        elif roll < 0.245 and self.news_posts:
            earlier = [p for p in self.news_posts if p[1] < when]
            if earlier:
                key, _posted, text = rng.choice(earlier[-6:])
                fields["forward_key"] = key
                fields["text"] = text
            else:
                fields["text"] = self.text(rng.choice(pool["open"]), lang, speaker.fem)
        elif roll < 0.40:
            kind = rng.choices(
                ("photo", "video", "document", "voice", "sticker", "gif", "round"),
                (6.0, 1.5, 2.0, 2.5, 2.0, 1.0, 0.5),
            )[0]
            if phase == "day" and rng.random() < 0.5:
                kind = "photo"
            fields["media"] = self.media(kind, lang)
            if kind in ("photo", "video"):
                fields["text"] = self.text(rng.choice(pool["caption"]), lang, speaker.fem)
            elif kind == "document":
                fields["text"] = rng.choice(("", "", "Держите / here you go"))
        else:
            key = phase if phase != "normal" and rng.random() < 0.45 else "open"
            if key != "open" and rng.random() < 0.3:
                key = "reply"
            fields["text"] = self.text(rng.choice(pool[key]), lang, speaker.fem)
        if fields.get("text") and "forward_key" not in fields and rng.random() < 0.05:
            fields["edit_date"] = when + timedelta(minutes=rng.randint(1, 40))
        if rng.random() < 0.28:
            fields["reactions"] = self.reactions(emoji=CLUB_EMOJI, custom=True, paid=0.04)
        d = self.draft(self.club, when, **fields)
        recent.append((d.key, speaker.rec.id))

    # the team ------------------------------------------------------------------------

    def team_chat(self) -> None:
        rng = self.rng
        for day in all_days():
            if day.weekday() >= 5:
                continue
            members = [p for p in self.team_members if p.joined <= day]
            start = datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)
            for n, person in enumerate(members):
                if rng.random() < 0.2:
                    continue
                lang = rng.choice(("ru", "en")) if person.lang == "mix" else person.lang
                text = self.text(rng.choice(STANDUP[lang]), lang, person.fem, TEAM_WORDS[lang])
                when = start + timedelta(
                    minutes=3 * n + rng.randint(0, 2), seconds=rng.randrange(60)
                )
                self.draft(self.team, when, sender=person.rec, text=text)
            for when in self.times(day, rng.randint(0, 3), start=8, end=15):
                person = rng.choice(members)
                lang = rng.choice(("ru", "en")) if person.lang == "mix" else person.lang
                fields: dict[str, Any] = {"sender": person.rec}
                if rng.random() < 0.1:
                    fields["media"] = document(
                        rng.randint(50_000, 400_000), f"sprint-{day.isocalendar()[1]}-retro.pdf"
                    )
                else:
                    words = TEAM_WORDS[lang]["chat"]
                    fields["text"] = self.text(
                        rng.choice(words), lang, person.fem, TEAM_WORDS[lang]
                    )
                if rng.random() < 0.15:
                    fields["reactions"] = [(rng.choice(("👍", "🎉", "🔥")), rng.randint(1, 4))]
                self.draft(self.team, when, **fields)

    # private chats and the basic group ---------------------------------------------------

    def family_chat(self) -> None:
        rng = self.rng
        lines = (
            (self.ekaterina, "Как доехал? Напиши, как будешь дома"),
            (self.me_person, "Доехал, всё хорошо"),
            (self.alexey, "В субботу едем на дачу, кто с нами?"),
            (self.ekaterina, "Купите {food} к чаю, пожалуйста"),
            (self.me_person, "Сегодня задержусь, ужинайте без меня"),
            (self.alexey, "Завтра {weather}, одевайтесь теплее"),
            (self.ekaterina, "Позвоните бабушке, у неё сегодня давление"),
            (self.me_person, "Ок 👍"),
            (self.alexey, "Кто заберёт посылку с почты?"),
            (self.me_person, "Я заберу после работы"),
        )
        for day in all_days():
            if rng.random() > 0.35:
                continue
            for when in self.times(day, rng.randint(1, 4), start=6, end=19):
                person, template = rng.choice(lines)
                fields: dict[str, Any] = {"sender": person.rec}
                r = rng.random()
                if r < 0.08:
                    fields["media"] = self.media("photo", "ru")
                    fields["text"] = rng.choice(("Дача 🍂", "Урожай!", ""))
                elif r < 0.15:
                    fields["media"] = self.media("voice", "ru")
                else:
                    fields["text"] = self.text(template, "ru", person.fem)
                if rng.random() < 0.1:
                    fields["reactions"] = [("❤", rng.randint(1, 2))]
                self.draft(self.family, when, **fields)

    def private_chats(self) -> None:
        rng = self.rng
        chats = {
            "anna_smirnova": (self.anna, 22),
            "dvolkov": (self.dmitry, 12),
            "ekaterina": (self.ekaterina, 18),
            "skuznetsov_dev": (self.sergey, 12),
            "masha_lebedeva": (self.maria, 7),
            "emily_carter": (self.emily, 12),
            "jwhitfield": (self.james, 5),
            "olivia_reads": (self.olivia, 4),
        }
        days = all_days()
        for name, (person, exchanges) in chats.items():
            eligible = [d for d in days if d >= person.joined]
            for day in sorted(rng.sample(eligible, exchanges)):
                script = rng.choice(PRIVATE_SCRIPTS[name])
                when = self.at(day, start=6, end=19)
                lang = "en" if person.lang == "en" else "ru"
                for who, template in script:
                    fem = person.fem if who == "them" else False
                    sender = person.rec if who == "them" else self.me
                    text = self.text(template, lang, fem)
                    fields: dict[str, Any] = {"sender": sender, "text": text}
                    if rng.random() < 0.08:
                        fields["reactions"] = [(rng.choice(("❤", "👍", "😁")), 1)]
                    self.draft(person.rec, when, **fields)
                    when += timedelta(minutes=rng.randint(1, 25), seconds=rng.randrange(60))

    def bot_chats(self) -> None:
        rng = self.rng
        for day in all_days():
            if rng.random() < 0.3:
                when = self.at(day, start=5, end=7)
                self.draft(self.weather_bot, when, sender=self.me, text="/weather Москва")
                reply = (
                    f"Москва: {rng.randint(-6, 18):+d}°C, {rng.choice(WEATHER)}, "
                    f"ветер {rng.randint(1, 9)} м/с"
                )
                self.draft(self.weather_bot, when + timedelta(seconds=1), text=reply)
            if day + timedelta(days=1) in MEETUPS:
                when = self.at(day, start=15, end=18)
                self.draft(
                    self.reminder_bot, when, sender=self.me, text="/remind 10:00 встреча клуба"
                )
                self.draft(
                    self.reminder_bot,
                    when + timedelta(seconds=1),
                    text="Ок, напомню завтра в 10:00: встреча клуба",
                )
                self.draft(
                    self.reminder_bot,
                    datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC) + timedelta(days=1),
                    text="⏰ Напоминание: встреча клуба",
                )

    # adding ----------------------------------------------------------------------------

    def flush(self) -> None:
        """Add every draft in date order, so ids grow with time as on Telegram."""
        ids: dict[int, int] = {}
        for d in sorted(self.drafts, key=lambda d: (d.date, d.key)):
            fields = dict(d.fields)
            if d.reply_key is not None:
                fields["reply_to"] = ids[d.reply_key]
            if d.pin_key is not None:
                fields["reply_to"] = ids[d.pin_key]
                self.world.message(d.chat, ids[d.pin_key]).pinned = True
            if d.forward_key is not None:
                post = self.world.message(self.news, ids[d.forward_key])
                fields["fwd_from"] = ForwardRec(
                    date=post.date, from_peer=self.news.marked_id, channel_post=post.id
                )
            rec = self.world.add_message(d.chat, date=d.date, **fields)
            ids[d.key] = rec.id

    def dialog_state(self) -> None:
        """Unread counts and mute flags, as the account left them."""
        w = self.world
        club = w.dialog(self.club)
        club.unread_count = 37
        club.unread_mentions_count = 1
        club.unread_reactions_count = 2
        w.dialog(self.news).unread_count = 4
        w.dialog(self.family).unread_count = 3
        w.dialog(self.anna.rec).unread_count = 2
        w.dialog(self.emily.rec).unread_count = 1
        w.dialog(self.team).muted = True
        w.dialog(self.reminder_bot).muted = True


def build_world(seed: int = SEED) -> FakeTelegram:
    """The demo account's world (same ``seed``, same world)."""
    return WorldBuilder(seed).build()


def describe(world: FakeTelegram) -> str:
    """One line per chat: messages and dialog flags (for the command line)."""
    lines = []
    for marked, dialog in world.dialogs.items():
        peer = world.peer(marked)
        name = peer.title if isinstance(peer, ChatRec) else peer.full_name if peer else marked
        flags = [f for f, on in (("pinned", dialog.pinned), ("archived", dialog.folder_id))
                 if on]  # fmt: skip
        extra = f" [{', '.join(flags)}]" if flags else ""
        count = len(world.history(marked))
        lines.append(
            f"{marked:>15}  {count:>5} messages  unread {dialog.unread_count:>3}  {name}{extra}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sample.build_world", description=__doc__)
    parser.add_argument("out", type=Path, help="where to write the world (pickle)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    world = build_world()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    world.save(args.out)
    if not args.quiet:
        print(describe(world))
        print(f"saved: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
