"""``bot_users``: every Telegram user who wrote to one of the Bot API bots (spec
linear-and-bots.md §2.2, §4).

Each update upserts its sender as Telegram describes them *now*: a field Telegram
leaves out (no username, no last name, no language) is stored as NULL — never as an
empty string — and a later value replaces the stored one; ``first_seen_at`` is kept
from the first upsert and ``last_seen_at`` moves to the update's time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tgpilot.store.batches import chunked, last_by_key
from tgpilot.store.repository import Repository
from tgpilot.store.schema import BOT_LANGUAGE_LENGTH, NAME_LENGTH, USERNAME_LENGTH, bot_users
from tgpilot.store.text import clip
from tgpilot.store.types import as_utc
from tgpilot.store.upsert import upsert_statement

if TYPE_CHECKING:
    pass

BOT_USERS_BATCH_SIZE = 1000


@dataclass(frozen=True)
class BotUser:
    """A Telegram user as a Bot API update describes them."""

    user_id: int
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    is_premium: bool = False


@dataclass(frozen=True)
class BotUserRecord(BotUser):
    """A stored ``bot_users`` row: the user plus when they were first and last seen."""

    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None


def _present(value: str | None, length: int) -> str | None:
    """``value`` clipped to the column, or None when absent or blank."""
    if value is None or not value.strip():
        return None
    return clip(value, length)


def bot_user_row(user: BotUser, seen_at: datetime) -> dict[str, Any]:
    """The row an update writes (``first_seen_at`` only counts for a new row)."""
    seen = as_utc(seen_at)
    return {
        "user_id": user.user_id,
        "username": _present(user.username, USERNAME_LENGTH),
        "first_name": _present(user.first_name, NAME_LENGTH),
        "last_name": _present(user.last_name, NAME_LENGTH),
        "language_code": _present(user.language_code, BOT_LANGUAGE_LENGTH),
        "is_bot": bool(user.is_bot),
        "is_premium": bool(user.is_premium),
        "first_seen_at": seen,
        "last_seen_at": seen,
    }


def _record(row: Mapping[Any, Any]) -> BotUserRecord:
    return BotUserRecord(
        user_id=int(row["user_id"]),
        first_name=row["first_name"],
        last_name=row["last_name"],
        username=row["username"],
        language_code=row["language_code"],
        is_bot=bool(row["is_bot"]),
        is_premium=bool(row["is_premium"]),
        first_seen_at=as_utc(row["first_seen_at"]),
        last_seen_at=as_utc(row["last_seen_at"]),
    )


class BotUserRepository(Repository):
    """Reads and writes ``bot_users`` of one open store."""

    async def seen(self, user: BotUser, at: datetime) -> None:
        """Upsert ``user`` as seen at ``at`` (see the module docstring)."""
        await self.seen_many([user], at)

    async def seen_many(self, users: Sequence[BotUser], at: datetime) -> None:
        """Upsert several users seen at ``at``, one statement per batch of 1,000."""
        rows = list(
            last_by_key((bot_user_row(u, at) for u in users), lambda r: r["user_id"]).values()
        )
        statement = upsert_statement(self._backend, bot_users, keep=("first_seen_at",))
        async with self._guard("saving bot users"):
            for batch in chunked(rows, BOT_USERS_BATCH_SIZE):
                async with self._writer.begin() as conn:
                    await conn.execute(statement, list(batch))

    async def get(self, user_id: int) -> BotUserRecord | None:
        """The stored user, or None."""
        statement = select(bot_users).where(bot_users.c.user_id == user_id)
        async with self._guard("reading a bot user"), self._engine.connect() as conn:
            row = (await conn.execute(statement)).mappings().first()
        return _record(row) if row is not None else None
