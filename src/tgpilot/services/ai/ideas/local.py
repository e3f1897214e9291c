"""Ideas, problems and tools found without a model (spec ai.md §4.5, §5).

Each chat's texts by people (bots and the service-notification account left out) are
matched against the word lists of :mod:`tgpilot.services.ai.wordlists`:

- an **idea** is a text over 20 characters holding an idea phrase ("предлагаю",
  "не хватает", "feature", "need", …);
- a **problem** holds a problem phrase ("не работает", "баг", "error", …) — a text
  may be both;
- **tools** are whole-word tool names; a chat's tools count the texts naming each.

Local **themes** are the analysis lexicon's topics (``topics.yml``) that the ideas and
problems mention, by how many mention each; with a model, its themes replace them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Literal

from tgpilot.core.textmatch import prepare
from tgpilot.models import Chat, Message
from tgpilot.services.ai.analyze.lexicon import TopicLexicon, load_topics
from tgpilot.services.ai.analyze.selection import display_name, is_bot_like, text_length
from tgpilot.services.ai.digest.activity import cut, one_line
from tgpilot.services.ai.wordlists import (
    IDEAS,
    PROBLEMS,
    PhraseList,
    ToolLexicon,
    load_phrases,
    load_tools,
)

Kind = Literal["idea", "problem"]
IDEA: Kind = "idea"
PROBLEM: Kind = "problem"
IDEA_MIN_LENGTH = 20
"""An idea is a text of more than this many characters."""
QUOTE_LENGTH = 200
TOP_TOOLS = 20

MessageKey = tuple[int, int]
"""``(chat id, message id)``: one message anywhere."""


@dataclass(frozen=True)
class IdeaLexicon:
    """Everything ``ideas`` matches text against."""

    ideas: PhraseList
    problems: PhraseList
    tools: ToolLexicon
    topics: TopicLexicon

    @classmethod
    def load(cls, override_dir: Path | None = None) -> IdeaLexicon:
        """The bundled lists, or the user's in ``override_dir``."""
        return cls(
            ideas=load_phrases(IDEAS, override_dir),
            problems=load_phrases(PROBLEMS, override_dir),
            tools=load_tools(override_dir),
            topics=load_topics(override_dir),
        )


def is_chat_text(message: Message) -> bool:
    """True for a text that is not a service message and not from a bot (or the
    service-notification account)."""
    return not message.is_service and bool(message.text.strip()) and not is_bot_like(message.sender)


@dataclass(frozen=True)
class Finding:
    """A message holding an idea or a problem."""

    kind: Kind
    chat_id: int
    chat_title: str
    message_id: int
    date: datetime
    sender: str
    text: str
    phrases: tuple[str, ...] = ()
    """The phrases found (empty when a model, not a phrase, made it this kind)."""
    summary: str = ""
    """The model's one-sentence summary (empty locally)."""

    @property
    def key(self) -> MessageKey:
        return self.chat_id, self.message_id

    @property
    def quote(self) -> str:
        """The text on one line, at most 200 characters."""
        return cut(one_line(self.text), QUOTE_LENGTH)


@dataclass(frozen=True)
class ChatIdeas:
    """One chat's ideas, problems (chronological) and tools (by texts naming them)."""

    chat: Chat
    messages: int
    """Texts read in the window."""
    ideas: tuple[Finding, ...] = ()
    problems: tuple[Finding, ...] = ()
    tools: tuple[tuple[str, int], ...] = ()

    def newest(self, kind: Kind, count: int) -> tuple[Finding, ...]:
        """The ``count`` newest ideas or problems, newest first."""
        found = self.ideas if kind == IDEA else self.problems
        return tuple(sorted(found, key=lambda f: (f.date, f.message_id), reverse=True)[:count])


def _finding(kind: Kind, chat: Chat, message: Message, phrases: Sequence[str]) -> Finding:
    return Finding(
        kind,
        chat.id,
        chat.title,
        message.id,
        message.date,
        display_name(message.sender),
        message.text,
        tuple(phrases),
    )


def find_ideas(chat: Chat, messages: Iterable[Message], lexicon: IdeaLexicon) -> ChatIdeas:
    """The ideas, problems and tools of ``chat``'s texts (see the module docstring)."""
    ideas: list[Finding] = []
    problems: list[Finding] = []
    tools: Counter[str] = Counter()
    read = 0
    for message in sorted(messages, key=lambda m: (m.date, m.id)):
        if not is_chat_text(message):
            continue
        read += 1
        text = prepare(message.text)
        tools.update(lexicon.tools.tools_in(text))
        if text_length(message) > IDEA_MIN_LENGTH and (found := lexicon.ideas.found(text)):
            ideas.append(_finding(IDEA, chat, message, found))
        if found := lexicon.problems.found(text):
            problems.append(_finding(PROBLEM, chat, message, found))
    ordered = sorted(tools.items(), key=lambda item: (-item[1], item[0].casefold()))
    return ChatIdeas(chat, read, tuple(ideas), tuple(problems), tuple(ordered))


@dataclass(frozen=True)
class ToolCount:
    """A tool across chats: in how many chats it is named, and in how many texts."""

    name: str
    chats: int
    mentions: int


def top_tools(chats: Sequence[ChatIdeas], count: int = TOP_TOOLS) -> list[ToolCount]:
    """The ``count`` tools named in the most chats (then most texts, then by name)."""
    in_chats: Counter[str] = Counter()
    mentions: Counter[str] = Counter()
    for chat in chats:
        for name, texts in chat.tools:
            in_chats[name] += 1
            mentions[name] += texts
    ranked = sorted(in_chats, key=lambda name: (-in_chats[name], -mentions[name], name.casefold()))
    return [ToolCount(name, in_chats[name], mentions[name]) for name in ranked[:count]]


@dataclass(frozen=True)
class Theme:
    """Ideas and problems that belong together: a lexicon topic, or a model's theme."""

    name: str
    items: tuple[MessageKey, ...]
    summary: str = ""


def local_themes(chats: Sequence[ChatIdeas], topics: TopicLexicon) -> list[Theme]:
    """The lexicon topics the ideas and problems mention, most mentioned first."""
    keys: dict[str, list[MessageKey]] = {name: [] for name in topics.names}
    seen: set[MessageKey] = set()
    for chat in chats:
        for finding in (*chat.ideas, *chat.problems):
            if finding.key in seen:
                continue
            seen.add(finding.key)
            for name in topics.topics_of(finding.text):
                keys[name].append(finding.key)
    order = list(topics.names)
    named = [(name, items) for name, items in keys.items() if items]
    named.sort(key=lambda item: (-len(item[1]), order.index(item[0])))
    return [Theme(name, tuple(items)) for name, items in named]


@dataclass(frozen=True)
class Verdict:
    """What a model said of one candidate: its kind (None: neither) and a summary."""

    kind: Kind | None
    summary: str = ""


def apply_verdicts(
    chats: Sequence[ChatIdeas], verdicts: dict[MessageKey, Verdict]
) -> list[ChatIdeas]:
    """The chats with each candidate the model judged made what it said: an idea, a
    problem, or dropped; candidates it did not judge keep their local kinds."""
    judged: list[ChatIdeas] = []
    for chat in chats:
        ideas: dict[MessageKey, Finding] = {}
        problems: dict[MessageKey, Finding] = {}
        for finding in sorted((*chat.ideas, *chat.problems), key=lambda f: (f.date, f.message_id)):
            verdict = verdicts.get(finding.key)
            if verdict is None:
                (ideas if finding.kind == IDEA else problems)[finding.key] = finding
            elif verdict.kind is not None:
                target = ideas if verdict.kind == IDEA else problems
                target.setdefault(
                    finding.key, replace(finding, kind=verdict.kind, summary=verdict.summary)
                )
        judged.append(replace(chat, ideas=tuple(ideas.values()), problems=tuple(problems.values())))
    return judged


@dataclass(frozen=True)
class IdeasResult:
    """Every chat's findings, the themes, and recommendations (a model's only)."""

    chats: tuple[ChatIdeas, ...]
    themes: tuple[Theme, ...] = ()
    recommendations: tuple[str, ...] = ()

    @property
    def messages(self) -> int:
        return sum(chat.messages for chat in self.chats)

    @property
    def ideas(self) -> int:
        return sum(len(chat.ideas) for chat in self.chats)

    @property
    def problems(self) -> int:
        return sum(len(chat.problems) for chat in self.chats)

    def finding(self, key: MessageKey) -> Finding | None:
        """The idea (else problem) of message ``key``."""
        for chat in self.chats:
            for found in (*chat.ideas, *chat.problems):
                if found.key == key:
                    return found
        return None


def ideas_locally(chats: Sequence[ChatIdeas], lexicon: IdeaLexicon) -> IdeasResult:
    """The result without a model: the findings as found, lexicon topics as themes."""
    return IdeasResult(tuple(chats), tuple(local_themes(chats, lexicon.topics)))
