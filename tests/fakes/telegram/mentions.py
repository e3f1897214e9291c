"""Whether a message mentions the viewing account: Telegram's ``mentioned`` flag.

The server sets it on a message that names the account (``@username``, or a
mention-by-id entity) or replies to one of the account's messages; clients (and the
auto-responder's ``mention_only`` rule) read it instead of parsing the text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .model import MessageRec

if TYPE_CHECKING:
    from .world import FakeTelegram


def mentions_viewer(world: FakeTelegram, viewer: int | None, rec: MessageRec) -> bool:
    """True if ``rec`` mentions (or replies to) user ``viewer``; never for its own."""
    if viewer is None or rec.out or rec.sender == viewer:
        return False
    user = world.users.get(viewer)
    if user is not None and user.username:
        pattern = rf"(?<![\w@])@{re.escape(user.username)}(?!\w)"
        if re.search(pattern, rec.text, re.IGNORECASE):
            return True
    if any(getattr(entity, "user_id", None) == viewer for entity in rec.entities):
        return True
    if rec.reply_to is not None:
        target = world.messages.get(rec.chat, {}).get(rec.reply_to)
        return target is not None and target.sender == viewer
    return False
