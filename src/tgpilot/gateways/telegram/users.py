"""A user's profile "about" text, from ``users.getFullUser`` (``hunt --bio-keywords``)."""

from __future__ import annotations

from telethon.tl import functions

from tgpilot.gateways.telegram.client import PolicyClient


async def user_about(client: PolicyClient, user_id: int) -> str | None:
    """The "about" text of user ``user_id``; None when empty or when the session does not
    know the user (no access hash: it has not seen them in a chat it read)."""
    try:
        peer = await client.get_input_entity(user_id)
    except ValueError:
        return None
    full = await client(functions.users.GetFullUserRequest(id=peer))
    about = full.full_user.about
    return str(about) if about else None
