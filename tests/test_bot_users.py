"""``bot_users`` on SQLite, MariaDB and PostgreSQL (spec linear-and-bots.md §2.2, §4;
scenario 22): absent fields are NULL, never "", a later update replaces them and moves
``last_seen_at`` while ``first_seen_at`` stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tgpilot.store import Store
from tgpilot.store.bot_users import BotUser, BotUserRepository

T0 = datetime(2026, 3, 1, 8, 0, 0, 250000, tzinfo=UTC)
IVAN = 5_000_000_001  # beyond 32 bits: Telegram ids are BIGINT


async def test_missing_fields_are_null_and_a_later_username_updates_the_row(store: Store) -> None:
    users = BotUserRepository(store)
    await users.seen(BotUser(IVAN, first_name="Иван", last_name="", username=None), T0)

    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT username, last_name, language_code FROM bot_users "
                    f"WHERE user_id = {IVAN}"
                )
            )
        ).one()
    assert tuple(row) == (None, None, None)

    later = T0 + timedelta(hours=5)
    await users.seen(
        BotUser(IVAN, first_name="Иван", username="ivan_new", language_code="ru", is_premium=True),
        later,
    )
    stored = await users.get(IVAN)
    assert stored is not None
    assert stored.username == "ivan_new" and stored.language_code == "ru" and stored.is_premium
    assert stored.first_name == "Иван" and stored.last_name is None
    assert stored.first_seen_at == T0
    assert stored.last_seen_at == later
    async with store.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM bot_users"))).scalar_one() == 1


async def test_a_batch_of_users_is_stored_once_each(store: Store) -> None:
    users = BotUserRepository(store)
    batch = [BotUser(n, first_name=f"User {n}") for n in range(1, 1501)]
    await users.seen_many([*batch, BotUser(1, first_name="User 1", username="one")], T0)
    first = await users.get(1)
    assert first is not None and first.username == "one"
    async with store.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM bot_users"))).scalar_one() == 1500
    assert await users.get(99_999) is None
