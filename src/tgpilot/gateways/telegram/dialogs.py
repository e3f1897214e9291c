"""The account's dialog list as domain :class:`~tgpilot.models.Dialog` rows.

Telethon's ``iter_dialogs`` pages 100 dialogs per ``messages.getDialogs``; unread count
and last-message time come from the dialog itself. Dialogs whose top message is missing
from the answer get one concurrent ``getHistory(limit=1)`` each, bounded by a semaphore;
a failed fetch keeps the row with its error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from telethon import errors

from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.gateways.telegram.convert import chat_from_entity
from tgpilot.gateways.telegram.errors import rpc_name
from tgpilot.models import Chat, Dialog


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


ProgressCallback = Callable[[int, int | None], None]


async def iter_dialogs(
    client: PolicyClient, scan: int | None, progress: ProgressCallback | None = None
) -> AsyncIterator[tuple[Dialog, Any]]:
    """Dialogs newest first, up to ``scan`` (None = all), with Telethon's input entity.

    ``progress(done, total)`` is called per dialog; ``total`` is the account's dialog
    count (capped at ``scan``) once Telegram has told it.
    """
    walk = client.iter_dialogs(limit=scan)
    done = 0
    async for item in walk:
        done += 1
        if progress is not None:
            total = getattr(walk, "total", None)
            progress(done, min(total, scan) if total and scan else total)
        entity = item.entity
        try:
            chat = chat_from_entity(entity)
        except TypeError:
            continue
        dialog = Dialog(
            chat=chat,
            unread=int(item.unread_count or 0),
            last_message_at=_utc(item.date) if item.message is not None else None,
            pinned=bool(item.pinned),
            archived=bool(item.archived),
        )
        yield dialog, item.input_entity


async def fill_missing_dates(
    client: PolicyClient,
    rows: list[tuple[Dialog, Any]],
    concurrency: int,
) -> list[Dialog]:
    """Fetch the last message date of dialogs that came without one, concurrently."""
    semaphore = asyncio.Semaphore(max(1, concurrency))

    async def fill(dialog: Dialog, peer: Any) -> Dialog:
        if dialog.last_message_at is not None:
            return dialog
        async with semaphore:
            try:
                latest = await client.get_messages(peer, limit=1)
            except errors.RPCError as exc:
                return replace(dialog, error=rpc_name(exc))
            except ConnectionError as exc:
                return replace(dialog, error=f"connection lost: {exc}")
        if not latest:
            return dialog
        return replace(dialog, last_message_at=_utc(latest[0].date))

    return list(await asyncio.gather(*(fill(dialog, peer) for dialog, peer in rows)))


def chats_of(rows: list[tuple[Dialog, Any]]) -> list[Chat]:
    """Just the chats of dialog rows."""
    return [dialog.chat for dialog, _peer in rows]
