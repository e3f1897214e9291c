"""The request the auto-responder sends for one burst (spec ai.md §4.8, step 3).

In this order: the system message from ``autoanswer.md``; the chat's last
``history_turns`` stored messages before the burst, outgoing as ``assistant`` and
incoming as ``user``, trimmed (oldest first) to the model's input budget; then the new
messages, **once**, as the last ``user`` turn (one per line).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tgpilot.gateways.llm.types import ChatMessage
from tgpilot.models import Message


def burst_text(messages: Sequence[Message]) -> str:
    """The new messages as the last user turn: one per line, in order."""
    return "\n".join(m.text.strip() for m in messages if m.text.strip())


def history_turns(stored: Sequence[Message], burst: Sequence[Message], turns: int) -> list[Message]:
    """The newest ``turns`` stored messages older than the burst, oldest first (stored is
    newest first, as the store reads it)."""
    first = min(m.id for m in burst)
    earlier = [m for m in stored if m.id < first and not m.is_service and m.text.strip()]
    return list(reversed(earlier[:turns]))


def build_request(
    system: str,
    history: Sequence[Message],
    burst: Sequence[Message],
    *,
    budget: int,
    count_tokens: Callable[[str], int],
) -> list[ChatMessage]:
    """The messages of one call; history is dropped oldest first to stay in ``budget``
    input tokens (the system message and the new messages are always sent)."""
    new = burst_text(burst)
    used = count_tokens(new)
    kept: list[ChatMessage] = []
    for message in reversed(history):
        content = message.text.strip()
        cost = count_tokens(content)
        if used + cost > budget:
            break
        used += cost
        kept.append(ChatMessage("assistant" if message.is_outgoing else "user", content))
    kept.reverse()
    return [ChatMessage("system", system), *kept, ChatMessage("user", new)]
