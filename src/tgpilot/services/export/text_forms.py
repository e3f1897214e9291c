"""Small text renderings every export format shares: reactions, media markers, previews.

Spec telegram-cli §0 (previews) and §3.2 (reactions text form, media markers, senders).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tgpilot.models import Message, Reaction

PAID_SYMBOL = "⭐"
UNKNOWN_SENDER = "Unknown sender"
PREVIEW_LENGTH = 50


def reaction_symbol(reaction: Reaction) -> str:
    """The emoji, ``custom:<document_id>``, ``⭐`` for paid, ``?`` for unknown kinds."""
    if reaction.type == "emoji" and reaction.emoji:
        return reaction.emoji
    if reaction.type == "custom_emoji":
        return f"custom:{reaction.document_id}"
    if reaction.type == "paid":
        return PAID_SYMBOL
    return "?"


def reactions_text(reactions: Sequence[Reaction]) -> str:
    """``<symbol>×<count>`` space-joined in server order; empty counts are skipped."""
    return " ".join(f"{reaction_symbol(r)}×{r.count}" for r in reactions if r.count > 0)


def reactions_structured(reactions: Sequence[Reaction]) -> list[dict[str, Any]]:
    """``[{type, emoji|document_id, count, mine}]`` for JSON outputs."""
    out: list[dict[str, Any]] = []
    for r in reactions:
        if r.count <= 0:
            continue
        item: dict[str, Any] = {"type": r.type}
        if r.type == "emoji":
            item["emoji"] = r.emoji
        elif r.type == "custom_emoji":
            item["document_id"] = r.document_id
        item["count"] = r.count
        item["mine"] = r.mine
        out.append(item)
    return out


def media_marker(kind: str, path: str | None) -> str:
    """``[photo: media/7_photo.jpg]`` when downloaded, else ``[photo]``."""
    return f"[{kind}: {path}]" if path else f"[{kind}]"


def sender_label(message: Message) -> str:
    """The sender as shown in exports (the gateway already applied the naming rules)."""
    return message.sender.name if message.sender is not None else UNKNOWN_SENDER


def preview(message: Message, length: int = PREVIEW_LENGTH) -> str:
    """≤ ``length`` code points, newlines as spaces, ``…`` only when cut; media-only
    messages as ``[photo]``."""
    text = " ".join(message.text.split("\n")).strip()
    if not text:
        return f"[{message.media_type}]" if message.media_type else ""
    if len(text) <= length:
        return text
    return text[: length - 1] + "…"
