"""What an analysis hands a model: the ``messages`` and ``metadata`` placeholders
(spec ai.md §4.1 "Prompt input", §2 shared placeholders).

``messages`` is one line per message, oldest first::

    [DD.MM.YYYY HH:MM] <sender>: <text> [N reactions] [media]

with ``[N reactions]`` only when N > 0 (emoji + custom + paid) and ``[media]`` only for
messages carrying media; newlines inside a text become spaces so that each message
stays one line. ``metadata`` is a JSON object with ``total_messages``,
``date_range{start, end}`` (ISO 8601), ``unique_senders``, ``has_media`` and
``total_reactions``. Times are shown in the report zone (``--tz``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from typing import Any

import orjson

from tgpilot.core.output import iso_time
from tgpilot.models import Message
from tgpilot.services.ai.analyze.metrics import ActivityMetrics
from tgpilot.services.ai.analyze.selection import MEDIA_MARKER, display_name

LINE_TIME = "%d.%m.%Y %H:%M"


def message_line(message: Message, tz: tzinfo) -> str:
    """``[01.01.2024 12:00] Anna: text [3 reactions] [media]``."""
    pieces = [
        f"[{message.date.astimezone(tz).strftime(LINE_TIME)}] {display_name(message.sender)}:"
    ]
    text = " ".join(message.text.split())
    if text:
        pieces.append(text)
    reactions = message.reactions_total
    if reactions > 0:
        pieces.append(f"[{reactions} reactions]")
    if message.media_type:
        pieces.append(MEDIA_MARKER)
    return " ".join(pieces)


def format_messages(messages: Iterable[Message], tz: tzinfo) -> str:
    """The ``messages`` placeholder: one :func:`message_line` per message, in order."""
    return "\n".join(message_line(message, tz) for message in messages)


def prompt_metadata(metrics: ActivityMetrics, tz: tzinfo) -> dict[str, Any]:
    """The ``metadata`` placeholder as an object (dates ISO 8601 in ``tz``, null when empty)."""
    return {
        "total_messages": metrics.total_messages,
        "date_range": {
            "start": iso_time(metrics.first_date, tz) if metrics.first_date else None,
            "end": iso_time(metrics.last_date, tz) if metrics.last_date else None,
        },
        "unique_senders": metrics.unique_senders,
        "has_media": metrics.media_messages > 0,
        "total_reactions": metrics.total_reactions,
    }


def metadata_json(metrics: ActivityMetrics, tz: tzinfo) -> str:
    """The ``metadata`` placeholder as the JSON text a prompt receives."""
    return orjson.dumps(prompt_metadata(metrics, tz), option=orjson.OPT_INDENT_2).decode()
