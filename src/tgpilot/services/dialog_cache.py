"""The dialog cache: the account's unfiltered dialog list on disk, usable offline.

``cache/dialogs-<account>.json`` holds ``{generated_at, account, scan, chats}``. It is
written atomically and never empty; a hit needs neither a connection nor the session
lock; an unreadable file is reported once and treated as a miss (spec §3.1). It also
serves the chat resolver as a directory of chats known without a request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from tgpilot.core.output import atomic_write, iso_time
from tgpilot.models import Chat, ChatType, Dialog


@dataclass(frozen=True)
class CachedDialogs:
    """A cache file's content."""

    generated_at: datetime
    account: str
    scan: int
    dialogs: list[Dialog]

    def covers(self, scan: int) -> bool:
        """True if this cache answers a request to scan ``scan`` dialogs (0 = all)."""
        if self.scan == 0:
            return True
        if scan == 0:
            return len(self.dialogs) < self.scan  # the walk ended before its bound: it is all
        return self.scan >= scan


def dialog_to_json(dialog: Dialog) -> dict[str, Any]:
    """One cache row (also the shape of ``chats list --json``, plus pin/archive)."""
    chat = dialog.chat
    row: dict[str, Any] = {
        "id": chat.id,
        "raw_id": chat.raw_id,
        "type": chat.type.value,
        "title": chat.title,
        "username": chat.username,
        "unread": dialog.unread,
    }
    if dialog.last_message_at is not None:
        row["last_message"] = iso_time(dialog.last_message_at)
    if dialog.error:
        row["error"] = dialog.error
    if dialog.pinned:
        row["pinned"] = True
    if dialog.archived:
        row["archived"] = True
    return row


def dialog_from_json(row: dict[str, Any]) -> Dialog:
    """The inverse of :func:`dialog_to_json`."""
    chat = Chat(
        id=int(row["id"]),
        raw_id=int(row["raw_id"]),
        type=ChatType(row["type"]),
        title=str(row["title"]),
        username=row.get("username") or None,
    )
    last = row.get("last_message")
    return Dialog(
        chat=chat,
        unread=int(row.get("unread") or 0),
        last_message_at=datetime.fromisoformat(last) if last else None,
        error=row.get("error"),
        pinned=bool(row.get("pinned")),
        archived=bool(row.get("archived")),
    )


class DialogCache:
    """Reads and writes one account's dialog cache file."""

    def __init__(self, path: Path, account: str, warn: Callable[[str], None]) -> None:
        self.path = path
        self.account = account
        self._warn = warn
        self._loaded: CachedDialogs | None = None
        self._tried = False

    def load(self) -> CachedDialogs | None:
        """The cache content, or None when absent or unreadable (warned once)."""
        if self._tried:
            return self._loaded
        self._tried = True
        try:
            raw = orjson.loads(self.path.read_bytes())
            self._loaded = CachedDialogs(
                generated_at=datetime.fromisoformat(raw["generated_at"]),
                account=str(raw["account"]),
                scan=int(raw["scan"]),
                dialogs=[dialog_from_json(row) for row in raw["chats"]],
            )
            if self._loaded.account != self.account or not self._loaded.dialogs:
                raise ValueError("cache belongs to another account or is empty")
        except FileNotFoundError:
            self._loaded = None
        except (OSError, ValueError, KeyError, TypeError):
            self._warn("dialog cache unreadable, refreshing")
            self._loaded = None
        return self._loaded

    def fresh(self, now: datetime, ttl: float, scan: int) -> CachedDialogs | None:
        """The cache if younger than ``ttl`` seconds and covering ``scan``."""
        cached = self.load()
        if cached is None or ttl <= 0:
            return None
        age = (now - cached.generated_at).total_seconds()
        if age < 0 or age >= ttl or not cached.covers(scan):
            return None
        return cached

    def save(self, dialogs: list[Dialog], scan: int, now: datetime) -> bool:
        """Write the unfiltered list atomically; an empty list writes nothing."""
        if not dialogs:
            return False
        document = {
            "generated_at": iso_time(now),
            "account": self.account,
            "scan": scan,
            "chats": [dialog_to_json(d) for d in dialogs],
        }
        with atomic_write(self.path, mode=0o600) as handle:
            handle.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        self._loaded = CachedDialogs(now, self.account, scan, list(dialogs))
        self._tried = True
        return True

    def known_chats(self) -> Iterable[Chat]:
        """Chats in the cache, whatever its age (the resolver's directory)."""
        cached = self.load()
        return [d.chat for d in cached.dialogs] if cached else []
