"""What people ask of me, found without a model (spec ai.md §4.5, §5).

**Me** is the account — its id and username — plus ``me.names`` from the
configuration (no built-in name); offline sources know the account by the sender of
its outgoing messages and ``me.username``.

Only texts by people count: never my own, a bot's, the service-notification
account's, or a chat posting as itself. Over such a text:

- a **task** is over 20 characters and addresses me — mentions my ``@username``,
  replies to one of my messages, or names me (a whole word) — or holds an imperative
  (``imperatives.yml``);
- a **question** has a "?" outside its links, or starts with a question word
  (``question_words.yml``);
- a **problem** holds a problem phrase (``problems.yml``, shared with ``ideas``).

A text can be all three. Replies to my messages older than the window are found
through a lookup the caller provides (the live account's; offline, only the window's
own messages are known).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import regex

from tgpilot.core.config.settings import MeSettings
from tgpilot.core.textmatch import FoldedText, TermMatcher, prepare, strip_urls
from tgpilot.models import Account, Chat, ChatType, Message
from tgpilot.services.ai.analyze.selection import (
    SERVICE_NOTIFICATIONS_ID,
    display_name,
    is_bot_like,
    text_length,
)
from tgpilot.services.ai.digest.activity import cut, one_line
from tgpilot.services.ai.wordlists import (
    IMPERATIVES,
    PROBLEMS,
    QUESTION_WORDS,
    PhraseList,
    compile_terms,
    load_phrases,
)

TASK_MIN_LENGTH = 20
"""A task is a text of more than this many characters."""
QUOTE_LENGTH = 200
_FIRST_WORD = regex.compile(r"\w")

MineLookup = Callable[[Chat, Sequence[int]], Awaitable[set[int]]]
"""Which of these message ids of a chat are the account's own (the live account's
``get_messages``)."""


class Reason(StrEnum):
    """Why a text is a task for me."""

    MENTION = "mention"
    REPLY = "reply"
    NAME = "name"
    IMPERATIVE = "imperative"


@dataclass(frozen=True)
class Me:
    """Who "me" is: the account's ids, usernames (without ``@``) and names."""

    ids: frozenset[int] = frozenset()
    usernames: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    display: str = ""
    """The account's own name, when known (for the model only)."""

    def describe(self) -> str:
        """``Name (@user, id N); also called: A, B`` — who the model reads for."""
        handles = [f"@{u}" for u in self.usernames] + [f"id {i}" for i in sorted(self.ids)]
        head = self.display or (self.names[0] if self.names else "the account owner")
        text = f"{head} ({', '.join(handles)})" if handles else head
        return f"{text}; also called: {', '.join(self.names)}" if self.names else text

    def with_ids(self, ids: Iterable[int]) -> Me:
        """This me, knowing these ids too."""
        return replace(self, ids=self.ids | frozenset(ids))


def me_of(account: Account | None, settings: MeSettings) -> Me:
    """Me from the live account (None offline) and ``me.names``/``me.username``."""
    usernames = [account.username] if account is not None and account.username else []
    if settings.username:
        usernames.append(settings.username.strip().lstrip("@"))
    return Me(
        ids=frozenset([account.id]) if account is not None else frozenset(),
        usernames=tuple(dict.fromkeys(u for u in usernames if u)),
        names=tuple(dict.fromkeys(n.strip() for n in settings.names if n.strip())),
        display=account.name if account is not None else "",
    )


def is_person_chat(chat: Chat, me: Me) -> bool:
    """A private chat with a person: not a bot, not me (Saved Messages), not the
    service-notification account."""
    return (
        chat.type is ChatType.USER and chat.id != SERVICE_NOTIFICATIONS_ID and chat.id not in me.ids
    )


def outgoing_senders(messages: Iterable[Message]) -> set[int]:
    """The ids that sent outgoing messages: the account's, seen from an offline source."""
    return {
        m.sender.id
        for m in messages
        if m.is_outgoing and m.sender is not None and m.sender.id is not None
    }


@dataclass(frozen=True)
class TaskLexicon:
    """The word lists ``tasks`` matches against."""

    imperatives: PhraseList
    question_words: PhraseList
    problems: PhraseList

    @classmethod
    def load(cls, override_dir: Path | None = None) -> TaskLexicon:
        return cls(
            imperatives=load_phrases(IMPERATIVES, override_dir),
            question_words=load_phrases(QUESTION_WORDS, override_dir),
            problems=load_phrases(PROBLEMS, override_dir),
        )


@dataclass(frozen=True)
class Signal:
    """A text that is a task, a question or a problem (what the lists hold)."""

    chat_id: int
    chat_title: str
    message_id: int
    date: datetime
    sender: str
    text: str
    reasons: tuple[Reason, ...] = ()
    """Why it is a task (empty for questions and problems)."""
    task: str = ""
    """The model's wording of the task (empty locally)."""
    requested_by: str = ""
    due_date: dt.date | None = None
    priority: str | None = None

    @property
    def key(self) -> tuple[int, int]:
        return self.chat_id, self.message_id

    @property
    def quote(self) -> str:
        """The text on one line, at most 200 characters."""
        return cut(one_line(self.text), QUOTE_LENGTH)


def newest(signals: Sequence[Signal], count: int) -> tuple[Signal, ...]:
    """The ``count`` newest signals, newest first."""
    return tuple(sorted(signals, key=lambda s: (s.date, s.message_id), reverse=True)[:count])


@dataclass(frozen=True)
class ChatTasks:
    """One chat: how many texts were read, and its tasks, questions and problems."""

    chat: Chat
    messages: int
    tasks: tuple[Signal, ...] = ()
    questions: tuple[Signal, ...] = ()
    problems: tuple[Signal, ...] = ()


def is_readable(message: Message) -> bool:
    """What ``tasks`` reads: every text (mine too, to know what replies to me)."""
    return not message.is_service and bool(message.text.strip())


def starts_with(matcher: TermMatcher, text: FoldedText) -> bool:
    """True if a term of ``matcher`` matches the first word of ``text``."""
    first = _FIRST_WORD.search(text.words)
    if first is None:
        return False
    start = text.original_span(first.start(), first.start() + 1)[0]
    return any(match.start == start for match in matcher.find(text))


class TaskScan:
    """Classifies the texts of chats for one me (see the module docstring)."""

    def __init__(self, me: Me, lexicon: TaskLexicon) -> None:
        self.me = me
        self.lexicon = lexicon
        self._mentions = compile_terms((f"=@{u}" for u in me.usernames), "me.username")
        self._names = compile_terms((f"={name}" for name in me.names), "me.names")

    def is_person_text(self, message: Message) -> bool:
        """A text by someone other than me: a person, not a bot or a chat."""
        sender = message.sender
        return (
            is_readable(message)
            and not message.is_outgoing
            and sender is not None
            and sender.id is not None
            and sender.id > 0
            and sender.id not in self.me.ids
            and not is_bot_like(sender)
        )

    def reasons(self, message: Message, text: FoldedText, mine: set[int]) -> tuple[Reason, ...]:
        """Why this text is a task for me (empty: it is not)."""
        if text_length(message) <= TASK_MIN_LENGTH:
            return ()
        found = []
        if self._mentions.contains(text):
            found.append(Reason.MENTION)
        if message.reply_to_id is not None and message.reply_to_id in mine:
            found.append(Reason.REPLY)
        if self._names.contains(text):
            found.append(Reason.NAME)
        if self.lexicon.imperatives.matches(text):
            found.append(Reason.IMPERATIVE)
        return tuple(found)

    def is_question(self, message: Message, text: FoldedText) -> bool:
        """A "?" outside links, or a question word first."""
        return "?" in strip_urls(message.text) or starts_with(
            self.lexicon.question_words.matcher, text
        )

    def scan(self, chat: Chat, messages: Iterable[Message], mine: set[int]) -> ChatTasks:
        """The tasks, questions and problems of ``chat``; ``mine`` are the ids of my
        messages there."""
        tasks: list[Signal] = []
        questions: list[Signal] = []
        problems: list[Signal] = []
        read = 0
        for message in sorted(messages, key=lambda m: (m.date, m.id)):
            if not is_readable(message):
                continue
            read += 1
            if not self.is_person_text(message):
                continue
            text = prepare(message.text)
            signal = Signal(
                chat.id,
                chat.title,
                message.id,
                message.date,
                display_name(message.sender),
                message.text,
            )
            if reasons := self.reasons(message, text, mine):
                tasks.append(replace(signal, reasons=reasons))
            if self.is_question(message, text):
                questions.append(signal)
            if self.lexicon.problems.matches(text):
                problems.append(signal)
        return ChatTasks(chat, read, tuple(tasks), tuple(questions), tuple(problems))


async def my_message_ids(
    chat: Chat, messages: Sequence[Message], me: Me, lookup: MineLookup | None = None
) -> set[int]:
    """Ids of my messages in ``chat``: those read, plus — through ``lookup`` — the older
    ones that texts over 20 characters reply to."""
    mine = {
        m.id for m in messages if m.is_outgoing or (m.sender is not None and m.sender.id in me.ids)
    }
    if lookup is None:
        return mine
    known = {m.id for m in messages}
    wanted = sorted(
        {
            m.reply_to_id
            for m in messages
            if m.reply_to_id is not None
            and m.reply_to_id not in known
            and text_length(m) > TASK_MIN_LENGTH
        }
    )
    return mine | await lookup(chat, wanted) if wanted else mine
