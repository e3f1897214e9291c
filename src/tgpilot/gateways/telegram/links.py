"""Reading what a user typed as a chat or message reference (spec telegram-cli §2, §4.1).

Pure parsing, no network: classifies text as a ``t.me`` link, a username, a numeric id
or nothing; the resolver (:mod:`.resolve`) then looks the reference up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tgpilot.models import CHANNEL_ID_OFFSET

USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
_LINK_RE = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:t|telegram)\.(?:me|dog)/(?P<path>[^?#]*)(?:[?#].*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ChatLink:
    """A parsed ``t.me`` link: exactly one of username, channel raw id or invite hash."""

    username: str | None = None
    channel_raw_id: int | None = None
    invite_hash: str | None = None
    message_id: int | None = None


def parse_link(text: str) -> ChatLink | None:
    """Parse ``t.me/<username>[/<msg>]``, ``t.me/c/<raw>/<msg>``, ``t.me/+<hash>`` and
    ``t.me/joinchat/<hash>``; scheme, trailing ``/`` and ``?single`` optional.

    Returns None when the text is not a Telegram link at all.
    """
    match = _LINK_RE.match(text.strip())
    if match is None:
        return None
    parts = [p for p in match.group("path").split("/") if p]
    if not parts:
        return None
    head = parts[0]
    if head == "c" and len(parts) >= 2 and parts[1].isdigit():
        return ChatLink(channel_raw_id=int(parts[1]), message_id=_msg_id(parts[2:]))
    if head.startswith("+") and len(head) > 1:
        return ChatLink(invite_hash=head[1:])
    if head == "joinchat" and len(parts) >= 2:
        return ChatLink(invite_hash=parts[1])
    if head.startswith("@"):
        head = head.lstrip("@")
    if head == "s" and len(parts) >= 2:  # t.me/s/<username>: the web preview
        parts = parts[1:]
        head = parts[0]
    if USERNAME_RE.match(head):
        return ChatLink(username=head, message_id=_msg_id(parts[1:]))
    return None


def _msg_id(rest: list[str]) -> int | None:
    if rest and rest[-1].isdigit():
        return int(rest[-1])
    return None


def parse_username(text: str) -> str | None:
    """``@name`` (every leading ``@`` stripped) or a bare word of username syntax."""
    stripped = text.strip()
    if stripped.startswith("@"):
        name = stripped.lstrip("@")
        return name if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{2,31}", name) else None
    return stripped if USERNAME_RE.match(stripped) else None


def parse_int(text: str) -> int | None:
    """A raw or marked numeric id, or None."""
    stripped = text.strip()
    if re.fullmatch(r"-?\d{1,20}", stripped):
        return int(stripped)
    return None


def candidates_for(value: int) -> list[int]:
    """Marked ids a number may stand for: a marked id fixes the kind, a positive raw id
    may be a user, a basic group or a channel."""
    if value > 0:
        return [value, -value, -(CHANNEL_ID_OFFSET + value)]
    return [value]


@dataclass(frozen=True)
class MessageRefs:
    """Message ids read from user input, the chat a link named (if any), and warnings."""

    ids: tuple[int, ...]
    chat_links: tuple[ChatLink, ...]
    warnings: tuple[str, ...]


def parse_message_refs(tokens: list[str]) -> MessageRefs:
    """Ids from integers, comma lists and message links (spec §4.1, scenario 25).

    Links: trailing ``/`` stripped, cut at ``?``, the last segment if all digits.
    Invalid tokens become warnings; duplicates are dropped, order kept.
    """
    ids: list[int] = []
    links: list[ChatLink] = []
    warnings: list[str] = []
    for token in tokens:
        for part in re.split(r"[,\s]+", token):
            if not part:
                continue
            if part.isdigit():
                ids.append(int(part))
                continue
            link = parse_link(part)
            if link is not None and link.message_id is not None:
                ids.append(link.message_id)
                links.append(link)
                continue
            warnings.append(f"not a message id or link: {part!r}")
        if not token.strip():
            warnings.append("empty message reference")
    return MessageRefs(tuple(dict.fromkeys(ids)), tuple(links), tuple(warnings))
