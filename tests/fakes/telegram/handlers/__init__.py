"""Request handlers of the fake Telegram, one module per API area.

- ``system``: help.getConfig, ping, updates.getState/getDifference, ...
- ``auth``: login with code and 2FA password (SRP), logout
- ``entities``: users, usernames, channels, chats, full info, available reactions
- ``dialogs``: messages.getDialogs (Telethon's pagination) and getPeerDialogs
- ``messages``: history and messages by id
- ``search``: messages.search (in-chat text search, paged like history)
- ``files``: upload.getFile for media stubs
- ``participants``: channels.getParticipants (member search, paging), getParticipant
- ``reactions``: messages.sendReaction (the account's reactions, the chat's policy)
- ``deletes``: messages.deleteMessages and channels.deleteMessages (rights, pts)
- ``editing``: messages.editMessage (own messages, pts, push) and messages.setTyping

Add an area by writing a module that registers handlers with
:func:`~tests.fakes.telegram.handlers.registry.handles` and listing it in ``AREAS``.
"""

from __future__ import annotations

import importlib

AREAS: tuple[str, ...] = (
    "system",
    "auth",
    "entities",
    "dialogs",
    "messages",
    "search",
    "files",
    "participants",
    "reactions",
    "deletes",
    "editing",
)


def load_all() -> None:
    """Import every area module so its handlers register themselves."""
    for area in AREAS:
        importlib.import_module(f"{__name__}.{area}")
