"""``chats list|active|dialogs``: the account's dialogs, filtered, sorted and rendered.

The dialog walk is the only online part (ceil(scan/100) requests plus one concurrent
fetch per dialog lacking a top message); a fresh dialog cache answers without a
connection or the session lock. Rendering to json/csv/yaml lives here too, so MCP tools
and bots reuse it; the CLI draws the table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

import yaml

from tgpilot.core.errors import UsageError
from tgpilot.core.names import safe_name
from tgpilot.core.output import iso_time
from tgpilot.models import ChatType, Dialog
from tgpilot.services.dialog_cache import DialogCache

if TYPE_CHECKING:
    from tgpilot.gateways.telegram.gateway import TelegramGateway

DEFAULT_TYPES = frozenset(t for t in ChatType if t is not ChatType.BOT)
SORTS = ("last", "unread", "title")
FORMATS = ("table", "json", "yaml", "csv")
CSV_COLUMNS = ("id", "raw_id", "type", "title", "username", "unread", "last_message")

GatewayOpener = Callable[[], AbstractAsyncContextManager["TelegramGateway"]]


def parse_types(text: str | None) -> frozenset[ChatType]:
    """``--type``: a comma list of chat types or ``all``; default all but bots."""
    if text is None or not text.strip():
        return DEFAULT_TYPES
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    if names == ["all"]:
        return frozenset(ChatType)
    allowed = [t.value for t in ChatType]
    wrong = [n for n in names if n not in allowed]
    if wrong:
        raise UsageError(
            f"--type: unknown chat type {', '.join(wrong)}; allowed: {', '.join(allowed)}, all"
        )
    return frozenset(ChatType(n) for n in names)


@dataclass(frozen=True)
class ChatListQuery:
    """What ``chats list`` was asked for."""

    types: frozenset[ChatType] = DEFAULT_TYPES
    limit: int = 20
    scan: int = 200
    sort: str = "last"
    cache_ttl: float = 300.0
    refresh: bool = False
    concurrency: int = 8

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise UsageError(f"--sort: unknown order {self.sort!r}; allowed: {', '.join(SORTS)}")
        if not 1 <= self.concurrency <= 32:
            raise UsageError("--concurrency must be between 1 and 32")
        if self.limit < 0 or self.scan < 0:
            raise UsageError("--limit and --scan must be 0 (all) or positive")


@dataclass
class ChatListResult:
    """Rows to show plus how they were obtained."""

    dialogs: list[Dialog]
    from_cache: bool
    generated_at: datetime
    scanned: int
    failed: list[Dialog] = field(default_factory=list)


def sort_dialogs(dialogs: list[Dialog], order: str) -> list[Dialog]:
    """Newest first with unknown dates last (``last``), most unread, or by title; ties by title."""

    def title_key(d: Dialog) -> str:
        return d.chat.title.casefold()

    if order == "title":
        return sorted(dialogs, key=title_key)
    by_title = sorted(dialogs, key=title_key)
    by_date = sorted(
        by_title,
        key=lambda d: (
            d.last_message_at is None,
            -(d.last_message_at.timestamp() if d.last_message_at else 0),
        ),
    )
    if order == "unread":
        return sorted(by_date, key=lambda d: -d.unread)
    return by_date


def select(dialogs: list[Dialog], query: ChatListQuery) -> list[Dialog]:
    """Filter by type, sort, cut to ``limit`` (0 = all)."""
    kept = [d for d in dialogs if d.chat.type in query.types]
    ordered = sort_dialogs(kept, query.sort)
    return ordered[: query.limit] if query.limit else ordered


async def list_chats(
    query: ChatListQuery,
    *,
    cache: DialogCache,
    open_gateway: GatewayOpener,
    now: Callable[[], datetime],
    progress: Callable[[int, int | None], None] | None = None,
) -> ChatListResult:
    """The dialogs ``query`` asks for, from a fresh cache or from Telegram."""
    if not query.refresh:
        cached = cache.fresh(now(), query.cache_ttl, query.scan)
        if cached is not None:
            rows = cached.dialogs[: query.scan] if query.scan else cached.dialogs
            return ChatListResult(select(rows, query), True, cached.generated_at, len(rows))
    async with open_gateway() as gateway:
        dialogs = await gateway.list_dialogs(
            query.scan or None, concurrency=query.concurrency, progress=progress
        )
    generated = now()
    cache.save(dialogs, query.scan, generated)
    failed = [d for d in dialogs if d.error]
    return ChatListResult(select(dialogs, query), False, generated, len(dialogs), failed)


def to_rows(dialogs: list[Dialog], tz: tzinfo) -> list[dict[str, Any]]:
    """JSON rows ``{id, raw_id, type, title, username, unread, last_message}``."""
    rows = []
    for d in dialogs:
        row: dict[str, Any] = {
            "id": d.chat.id,
            "raw_id": d.chat.raw_id,
            "type": d.chat.type.value,
            "title": d.chat.title,
            "username": d.chat.username,
            "unread": d.unread,
        }
        if d.last_message_at is not None:
            row["last_message"] = iso_time(d.last_message_at, tz)
        if d.error:
            row["error"] = d.error
        rows.append(row)
    return rows


def to_csv(dialogs: list[Dialog], tz: tzinfo) -> str:
    """RFC 4180 CSV with a header row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n"
    )
    writer.writeheader()
    for row in to_rows(dialogs, tz):
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_COLUMNS})
    return buffer.getvalue()


def to_yaml(dialogs: list[Dialog]) -> str:
    """A ``chats:`` mapping pasteable into ``config.yml``: slug keys, ``{id, type, title}``."""
    entries: dict[str, dict[str, Any]] = {}
    for d in dialogs:
        base = safe_name(d.chat.title, fallback=f"chat_{d.chat.raw_id}").casefold()
        key = base
        n = 1
        while key in entries:
            n += 1
            key = f"{base}-{n}"
        entries[key] = {"id": d.chat.id, "type": d.chat.type.value, "title": d.chat.title}
    return yaml.safe_dump({"chats": entries}, allow_unicode=True, sort_keys=False)
