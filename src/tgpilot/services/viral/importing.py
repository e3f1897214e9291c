"""Questions files: reading, validating and importing them (``viral import FILE``).

The format (spec telegram-cli §4.5)::

    chats:
      - {key: book-club, chat: "@example_book_club", expected_reactions: [50, 100],
         expected_comments: 30, description: "optional"}
    questions:
      - {chat: book-club, text: "Which book changed how you work?", status: active,
         priority: 10, tags: [books]}

Chat keys are ASCII (letters, digits, ``-``, ``_``, ``.``) and compared lower-cased, so
that SQLite, MariaDB (case-insensitive collation) and PostgreSQL agree on them. A
question's ``status`` is ``draft`` (the default), ``active`` or ``archived`` — ``sent``
is set by ``viral send`` alone. Texts are stripped of surrounding white space and may
not exceed Telegram's 4096 characters. Anything wrong is a :class:`UsageError` (exit 2)
naming the file, the entry and the problem; nothing is imported then.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from tgpilot.core.errors import UsageError
from tgpilot.store.schema import VIRAL_CHAT_REF_LENGTH, VIRAL_KEY_LENGTH
from tgpilot.store.viral import (
    QuestionStatus,
    ViralChatSpec,
    ViralImportCounts,
    ViralQuestionSpec,
    ViralRepository,
)

MAX_TEXT_LENGTH = 4096
"""Telegram's limit on a message's text, in characters."""

FILE_STATUSES = (QuestionStatus.DRAFT, QuestionStatus.ACTIVE, QuestionStatus.ARCHIVED)
KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]*")
INT32_MAX = 2**31 - 1

_TOP_KEYS = ("chats", "questions")
_CHAT_KEYS = ("key", "chat", "description", "expected_reactions", "expected_comments")
_QUESTION_KEYS = ("chat", "text", "status", "priority", "tags")


@dataclass(frozen=True)
class QuestionsFile:
    """A validated questions file."""

    path: Path
    chats: tuple[ViralChatSpec, ...]
    questions: tuple[ViralQuestionSpec, ...]


def normalise_key(value: str) -> str:
    """A chat key as stored and compared: stripped and lower-cased."""
    return value.strip().lower()


def check_key(value: str, where: str) -> str:
    """``value`` as a valid chat key, or a UsageError naming ``where``."""
    key = normalise_key(value)
    if not KEY_PATTERN.fullmatch(key) or len(key) > VIRAL_KEY_LENGTH:
        raise UsageError(
            f"{where}: {value!r} is not a chat key (ASCII letters, digits, '-', '_', '.';"
            f" at most {VIRAL_KEY_LENGTH} characters)"
        )
    return key


def load_questions_file(path: Path) -> QuestionsFile:
    """Read and validate a questions file (see the module docstring for the rules)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"cannot read questions file {path}: {reason}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML{_yaml_problem(exc)}") from None
    if not isinstance(data, Mapping):
        raise UsageError(f"{path}: expected a mapping with chats: and questions: lists")
    _no_unknown_keys(data, _TOP_KEYS, str(path))
    chats = tuple(
        _chat_spec(entry, f"{path}: chat {n}")
        for n, entry in enumerate(_entries(data, "chats", path), 1)
    )
    questions = tuple(
        _question_spec(entry, f"{path}: question {n}")
        for n, entry in enumerate(_entries(data, "questions", path), 1)
    )
    if not chats and not questions:
        raise UsageError(f"{path}: no chats and no questions to import")
    _no_duplicates([c.key for c in chats], path, "chat", "same key")
    _no_duplicates(
        [(q.chat_key, q.text) for q in questions], path, "question", "same chat and text"
    )
    return QuestionsFile(path, chats, questions)


async def import_questions(
    repository: ViralRepository, questions_file: QuestionsFile, now: datetime
) -> ViralImportCounts:
    """Upsert the file's chats and questions; a question's chat must be in the file or
    already stored."""
    known = {chat.key for chat in questions_file.chats}
    known |= {chat.key for chat in await repository.chats()}
    for n, question in enumerate(questions_file.questions, 1):
        if question.chat_key not in known:
            raise UsageError(
                f"{questions_file.path}: question {n}: unknown chat {question.chat_key!r}",
                hint="declare it under chats: (key, chat)",
            )
    return await repository.import_specs(questions_file.chats, questions_file.questions, now)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """`` (line L, column C): problem`` from a YAML error, as far as it tells."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return f": {exc}"
    mark = exc.problem_mark or exc.context_mark
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{where}: {exc.problem or exc.context or 'unreadable'}"


def _entries(data: Mapping[Any, Any], name: str, path: Path) -> list[Any]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise UsageError(f"{path}: {name} must be a list")
    return value


def _no_unknown_keys(entry: Mapping[Any, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = [str(key) for key in entry if key not in allowed]
    if unknown:
        raise UsageError(
            f"{where}: unknown field {', '.join(unknown)} (expected {', '.join(allowed)})"
        )


def _no_duplicates(values: list[Any], path: Path, noun: str, why: str) -> None:
    first: dict[Any, int] = {}
    for n, value in enumerate(values, 1):
        if value in first:
            raise UsageError(f"{path}: {noun} {n} repeats {noun} {first[value]} ({why})")
        first[value] = n


def _mapping(entry: Any, where: str) -> Mapping[Any, Any]:
    if not isinstance(entry, Mapping):
        raise UsageError(f"{where}: expected a mapping")
    return entry


def _text(entry: Mapping[Any, Any], name: str, where: str, *, required: bool) -> str | None:
    value = entry.get(name)
    if value is None:
        if required:
            raise UsageError(f"{where}: {name} is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{where}: {name} must be a non-empty string")
    return value.strip()


def _count(value: Any, name: str, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= INT32_MAX:
        raise UsageError(f"{where}: {name} must be a whole number of at least 0 (got {value!r})")
    return value


def _chat_spec(entry: Any, where: str) -> ViralChatSpec:
    entry = _mapping(entry, where)
    _no_unknown_keys(entry, _CHAT_KEYS, where)
    key = check_key(_text(entry, "key", where, required=True) or "", f"{where}: key")
    reference = entry.get("chat")
    if isinstance(reference, int) and not isinstance(reference, bool):
        reference = str(reference)
    if not isinstance(reference, str) or not reference.strip():
        raise UsageError(f"{where}: chat must be a chat reference (@username, link, id, alias)")
    if len(reference.strip()) > VIRAL_CHAT_REF_LENGTH:
        raise UsageError(f"{where}: chat is longer than {VIRAL_CHAT_REF_LENGTH} characters")
    expected_reactions: tuple[int, int] | None = None
    reactions = entry.get("expected_reactions")
    if reactions is not None:
        if not isinstance(reactions, list) or len(reactions) != 2:
            raise UsageError(f"{where}: expected_reactions must be [min, max]")
        low = _count(reactions[0], "expected_reactions min", where)
        high = _count(reactions[1], "expected_reactions max", where)
        if low > high:
            raise UsageError(f"{where}: expected_reactions min {low} is above max {high}")
        expected_reactions = (low, high)
    comments = entry.get("expected_comments")
    return ViralChatSpec(
        key=key,
        chat_ref=reference.strip(),
        description=_text(entry, "description", where, required=False),
        expected_reactions=expected_reactions,
        expected_comments=None
        if comments is None
        else _count(comments, "expected_comments", where),
    )


def _question_spec(entry: Any, where: str) -> ViralQuestionSpec:
    entry = _mapping(entry, where)
    _no_unknown_keys(entry, _QUESTION_KEYS, where)
    key = check_key(_text(entry, "chat", where, required=True) or "", f"{where}: chat")
    text = _text(entry, "text", where, required=True) or ""
    if len(text) > MAX_TEXT_LENGTH:
        raise UsageError(
            f"{where}: text has {len(text)} characters; Telegram takes at most {MAX_TEXT_LENGTH}"
        )
    status = entry.get("status", QuestionStatus.DRAFT.value)
    if status not in [s.value for s in FILE_STATUSES]:
        allowed = ", ".join(s.value for s in FILE_STATUSES)
        raise UsageError(f"{where}: status must be one of {allowed} (got {status!r})")
    priority = entry.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool) or abs(priority) > INT32_MAX:
        raise UsageError(f"{where}: priority must be a whole number (got {priority!r})")
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise UsageError(f"{where}: tags must be a list of non-empty strings")
    return ViralQuestionSpec(
        chat_key=key,
        text=text,
        status=QuestionStatus(status),
        priority=priority,
        tags=tuple(t.strip() for t in tags),
    )
