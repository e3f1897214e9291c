"""The text fingerprint that recognises one task written twice (spec linear-and-bots.md
§1.6): lower-cased, links and mentions removed, punctuation stripped, whitespace
collapsed, SHA-256. ``from-chats`` and the ``!linear`` listener store it with their
links, so either finds the other's issue for the same text."""

from __future__ import annotations

import hashlib
import re

_LINK = re.compile(r"(?:https?://|www\.|t\.me/)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_PUNCT = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACE = re.compile(r"\s+")


def fingerprint(text: str) -> str:
    """SHA-256 of ``text`` normalised as the module docstring says."""
    plain = _MENTION.sub(" ", _LINK.sub(" ", text.lower()))
    plain = _SPACE.sub(" ", _PUNCT.sub(" ", plain)).strip()
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()
