"""``find-user CHAT NAME``: who, among a chat's recent senders, is called NAME (spec §3.4).

Reads the newest ``limit`` messages from a ``MessageSource`` (live or the archive),
tallies each sender with an id (messages, newest date), and keeps those whose name or
username contains NAME, case-folded (leading ``@`` of NAME ignored). Service messages
are skipped. Results: most messages first, then most recently seen, then id.

With ``--members`` the candidates are the chat's members Telegram found for NAME
(server-side search) instead of the window's senders, each merged with the tally of the
window (0 messages and no last-seen date for members who did not write in it); senders
who are not members (any more) are left out. Telegram matches from the start of a word,
and loosely (transliteration), so its members are filtered again by the same
"contains NAME" rule. None found → ``No users matching "NAME" among N members``, N the
chat's member count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tgpilot.core.errors import UsageError
from tgpilot.models import Chat, Sender
from tgpilot.services.export.run import MessageSource
from tgpilot.services.matching import contains_folded
from tgpilot.services.search import ProgressFn, Window, scan


@dataclass
class UserMatch:
    """One sender of the chat and their activity in the window."""

    user_id: int
    username: str | None
    name: str
    messages: int
    last_seen: datetime | None


@dataclass(frozen=True)
class FindUserResult:
    """The matching senders, how many senders there were and how many messages were read."""

    chat: Chat
    query: str
    users: tuple[UserMatch, ...]
    senders: int
    scanned: int
    members: int | None = None  # with --members: the chat's member count

    def describe_none(self) -> str:
        if self.members is not None:
            return f'No users matching "{self.query}" among {self.members} members'
        return f'No users matching "{self.query}" among {self.senders} senders'

    def describe_found(self) -> str:
        """The summary line (stderr) under the table."""
        read = f"{self.senders} senders in {self.scanned} messages"
        if self.members is not None:
            return f"{len(self.users)} of {self.members} members; {read}"
        return f"{len(self.users)} of {read}"


def needle_of(name: str) -> str:
    """The text to look for: NAME without leading ``@`` or surrounding blanks."""
    needle = name.strip().lstrip("@").strip()
    if not needle:
        raise UsageError("NAME must not be empty")
    return needle


async def find_users(
    chat: Chat,
    source: MessageSource,
    name: str,
    window: Window,
    *,
    progress: ProgressFn | None = None,
    members: Sequence[Sender] | None = None,
    member_count: int | None = None,
) -> FindUserResult:
    """Senders of ``chat``'s window whose name or username contains ``name``.

    With ``members`` (the chat's participants Telegram found for ``name``), every
    matching member is listed, with the messages the window holds from them (0 and no
    last-seen date for members who did not write in it); ``member_count`` is the chat's
    member count (default: how many members were given).
    """
    needle = needle_of(name)
    seen: dict[int, UserMatch] = {}
    scanned = 0
    async for message in scan(chat, source, window, progress):
        scanned += 1
        sender = message.sender
        if message.is_service or sender is None or sender.id is None:
            continue
        row = seen.get(sender.id)
        if row is None:
            seen[sender.id] = UserMatch(sender.id, sender.username, sender.name, 1, message.date)
            continue
        row.messages += 1
        if row.last_seen is None or message.date > row.last_seen:
            row.last_seen = message.date
    candidates = list(seen.values())
    if members is not None:
        candidates = [
            seen.get(m.id) or UserMatch(m.id, m.username, m.name, 0, None)
            for m in members
            if m.id is not None
        ]
    users = [u for u in candidates if contains_folded(needle, u.name, u.username)]
    users.sort(
        key=lambda u: (-u.messages, -(u.last_seen.timestamp() if u.last_seen else 0), u.user_id)
    )
    total = None
    if members is not None:
        total = member_count if member_count is not None else len(members)
    return FindUserResult(chat, name, tuple(users), len(seen), scanned, total)
