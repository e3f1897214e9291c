"""Creating an issue at most once per ``linear_links`` key, the way every Linear writer
here does it (the ``!linear`` listener, backlog sync, from-chats, saved plans).

The key is reserved before the create; a key already attached to an issue means that
issue exists (nothing is sent); a pending key (an earlier create that did not finish)
is taken over. A failed create releases the key so the next run can try again; a made
issue is attached to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from tgpilot.core.errors import TgpilotError

if TYPE_CHECKING:
    from tgpilot.gateways.linear.types import Issue
    from tgpilot.store.linear import LinearLinkRepository


async def create_once(
    links: LinearLinkRepository,
    source: str,
    key: str,
    create: Callable[[], Awaitable[Issue]],
    *,
    fingerprint: str | None = None,
) -> Issue | str:
    """The issue ``create`` made for ``(source, key)``, or — when the key is already
    attached — the id of the issue it has (and nothing is sent)."""
    reservation = await links.reserve(source, key, fingerprint)
    if not reservation.reserved and reservation.link.issue_id is not None:
        return reservation.link.issue_id
    try:
        issue = await create()
    except TgpilotError:
        await links.release(source, key)
        raise
    await links.attach(source, key, issue.id)
    return issue
