"""Edited messages in the fake world: the record of each edit and the update it pushes.

Telegram moves the pts on every edit (the channel's for channels and supergroups,
the account's otherwise), pushes ``updateEditMessage`` / ``updateEditChannelMessage``
to connected clients and returns the edit from ``getDifference`` to a client that
missed it. :class:`EditRec` is what the world keeps for that; :func:`edit_update`
builds the TL update for one viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telethon.tl import types

from .model import ChatRec, MessageRec

if TYPE_CHECKING:
    from .render import Renderer


@dataclass
class EditRec:
    """One edit of message ``id`` of chat ``chat`` (marked id), at ``pts``."""

    chat: int
    id: int
    pts: int


def edit_update(renderer: Renderer, rec: MessageRec, chat: object, pts: int) -> Any:
    """The ``updateEdit(Channel)Message`` carrying ``rec`` as it now reads."""
    message = renderer.message(rec)
    if isinstance(chat, ChatRec) and chat.is_channel_type:
        return types.UpdateEditChannelMessage(message, pts=pts, pts_count=1)
    return types.UpdateEditMessage(message, pts=pts, pts_count=1)
