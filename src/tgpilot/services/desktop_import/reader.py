"""Streaming reader of Telegram Desktop ``result.json`` files (ijson, never ``json.load``).

Two layouts exist. A **single-chat** export is ``{"name", "type", "id", "messages":
[...]}``; a **whole-account** export has ``personal_information`` (the account's own
user id) and ``chats.list`` plus ``left_chats.list``, each an array of such chat
objects. :func:`open_export` finds the file and reads the small head of it (layout,
chat head or account id); :func:`iter_messages` then yields every message object with
the head of the chat it belongs to, one at a time, holding one message in memory.

A single chat is read with ijson's C ``items`` straight off the file. An account is
read through a thin event filter that notes where each chat starts and what its
``name``/``type``/``id`` are (Desktop writes them before ``messages``) and maps
``left_chats`` onto ``chats`` so one ``items`` prefix sees both lists; chats without
messages are reported at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import ijson

from tgpilot.core.errors import UsageError

RESULT_FILE = "result.json"

_HEAD_KEYS = ("name", "type", "id")
_CHAT = "chats.list.item"
_CHAT_HEAD = {f"{_CHAT}.{key}": key for key in _HEAD_KEYS}
_ACCOUNT_MESSAGES = f"{_CHAT}.messages.item"
_SINGLE_MESSAGES = "messages.item"
_SELF_ID = "personal_information.user_id"
_LEFT = "left_chats"
_ACCOUNT_KEYS = ("chats", _LEFT)


class Layout(StrEnum):
    """What a ``result.json`` holds."""

    SINGLE = "single"
    ACCOUNT = "account"


@dataclass(frozen=True)
class ChatHead:
    """A chat as the export names it: position in the file, ``name``, ``type``, bare ``id``.

    ``index`` numbers the chats of the file from 0 (a single-chat export has one);
    ``left`` marks chats from ``left_chats``.
    """

    index: int
    name: str | None
    type: str | None
    id: int | None
    left: bool = False


@dataclass(frozen=True)
class ExportFile:
    """A located export: its ``result.json``, folder, layout and head."""

    path: Path
    layout: Layout
    self_id: int | None = None
    chat: ChatHead | None = None

    @property
    def folder(self) -> Path:
        """The folder media paths in the export are relative to."""
        return self.path.parent


@dataclass
class _AccountState:
    """What the account event filter has seen so far."""

    current: ChatHead | None = None
    head: dict[str, Any] = field(default_factory=dict)
    finished: list[ChatHead] = field(default_factory=list)
    count: int = 0
    left: bool = False


def locate(path: Path) -> Path:
    """``path`` itself if it is a file, else its ``result.json``; UsageError if missing."""
    if path.is_dir():
        candidate = path / RESULT_FILE
        if not candidate.is_file():
            raise UsageError(
                f"no {RESULT_FILE} in {path}",
                hint="give the folder of a Telegram Desktop export in JSON format",
            )
        return candidate
    if not path.is_file():
        raise UsageError(f"no such file or folder: {path}")
    return path


def _invalid(path: Path, exc: Exception) -> UsageError:
    return UsageError(
        f"{path} is not a readable Telegram Desktop export: {exc}",
        hint="export the chat from Telegram Desktop in machine-readable JSON format",
    )


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _scan(handle: IO[bytes]) -> tuple[Layout | None, dict[str, Any], int | None]:
    """Top-level scalars, the layout and the account id; stops as early as it can."""
    layout: Layout | None = None
    head: dict[str, Any] = {}
    self_id: int | None = None
    for prefix, event, value in ijson.parse(handle, use_float=True):
        if prefix in _HEAD_KEYS and event not in ("start_map", "start_array", "map_key"):
            head[prefix] = value
        elif prefix == _SELF_ID:
            self_id = _int_or_none(value)
        elif prefix == "" and event == "map_key":
            if value == "messages":
                layout = Layout.SINGLE
            elif value in _ACCOUNT_KEYS:
                return Layout.ACCOUNT, head, self_id
        elif (
            prefix == "messages"
            and event == "start_array"
            and all(k in head for k in ("type", "id"))
        ):
            return Layout.SINGLE, head, self_id
    return layout, head, self_id


def open_export(path: Path) -> ExportFile:
    """Locate the export at ``path`` (a ``result.json`` or its folder) and read its head."""
    file = locate(path)
    try:
        with file.open("rb") as handle:
            layout, head, self_id = _scan(handle)
    except (ijson.JSONError, ValueError) as exc:
        raise _invalid(file, exc) from None
    if layout is None:
        raise UsageError(
            f"{file} is not a Telegram Desktop export: no messages and no chats list",
            hint="export from Telegram Desktop in machine-readable JSON format",
        )
    if layout is Layout.ACCOUNT:
        return ExportFile(file, layout, self_id=self_id)
    chat = ChatHead(
        0,
        _str_or_none(head.get("name")),
        _str_or_none(head.get("type")),
        _int_or_none(head.get("id")),
    )
    return ExportFile(file, layout, self_id=self_id, chat=chat)


def _account_events(
    events: Iterator[tuple[str, str, Any]], state: _AccountState
) -> Iterator[tuple[str, str, Any]]:
    """Pass parse events on, noting chat heads and mapping ``left_chats`` to ``chats``."""
    for prefix, event, value in events:
        if state.left and prefix:
            prefix = prefix[5:]  # "left_chats…" → "chats…"
        if prefix == "":
            if event == "map_key":
                state.left = value == _LEFT
        elif prefix == _CHAT:
            if event == "start_map":
                state.head = {}
                state.current = ChatHead(state.count, None, None, None, state.left)
            elif event == "end_map":
                if state.current is not None:
                    state.finished.append(state.current)
                state.current = None
                state.count += 1
        elif prefix in _CHAT_HEAD and event not in ("start_map", "start_array", "map_key"):
            state.head[_CHAT_HEAD[prefix]] = value
            state.current = ChatHead(
                state.count,
                _str_or_none(state.head.get("name")),
                _str_or_none(state.head.get("type")),
                _int_or_none(state.head.get("id")),
                state.left,
            )
        yield prefix, event, value


def iter_messages(export: ExportFile) -> Iterator[tuple[ChatHead, Any]]:
    """Every message object of the export with the head of its chat, in file order.

    An account export ends with ``(head, None)`` for every chat of the file (so chats
    without messages are seen too). Invalid JSON raises UsageError.
    """
    try:
        with export.path.open("rb") as handle:
            if export.layout is Layout.SINGLE:
                assert export.chat is not None
                for raw in ijson.items(handle, _SINGLE_MESSAGES, use_float=True):
                    yield export.chat, raw
                return
            state = _AccountState()
            events = _account_events(ijson.parse(handle, use_float=True), state)
            for raw in ijson.items(events, _ACCOUNT_MESSAGES, use_float=True):
                current = state.current
                if current is None:  # pragma: no cover - items never runs past a chat's end
                    continue
                yield current, raw
            for head in state.finished:
                yield head, None
    except (ijson.JSONError, ValueError) as exc:
        raise _invalid(export.path, exc) from None
