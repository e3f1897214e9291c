"""The LLM half of a digest (spec ai.md §4.2 "LLM digest").

The model reads one line per message, ``HH:MM <sender>: <text ≤ 500 chars>``, plus
`` [N❤]`` when the message drew N reactions, rendered through the ``digest`` prompt
(or ``--prompt``). The answer is Markdown and is used as it is. A period too long for
the model's window is cut to the newest messages that fit — input budget = window −
maximum output − the prompt without its messages − a margin of 5 % of the window (at
least 256 tokens) — and the caller is told how many were left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo

from tgpilot.core.errors import ConfigError
from tgpilot.gateways.llm.client import LLMClient
from tgpilot.gateways.llm.types import ChatMessage, Completion, PromptRef
from tgpilot.models import Message
from tgpilot.services.ai.analyze.selection import display_name
from tgpilot.services.ai.anonymize import Anonymizer
from tgpilot.services.ai.digest.activity import cut, one_line
from tgpilot.services.prompts import Prompt

LINE_TEXT_LENGTH = 500
MEDIA_TEXT = "[media]"
MARGIN_SHARE = 0.05
MIN_MARGIN = 256


def digest_line(message: Message, tz: tzinfo) -> str:
    """``HH:MM <sender>: <text>`` (text on one line, at most 500 characters) and
    `` [N❤]`` when reacted; a media message without text reads ``[media]``."""
    text = one_line(message.text) or (MEDIA_TEXT if message.media_type else "")
    line = (
        f"{message.date.astimezone(tz):%H:%M} {display_name(message.sender)}: "
        f"{cut(text, LINE_TEXT_LENGTH)}"
    )
    reactions = message.reactions_total
    return f"{line} [{reactions}❤]" if reactions > 0 else line


def digest_lines(messages: Sequence[Message], tz: tzinfo) -> list[str]:
    """The lines of the messages that have something to read (text or media)."""
    return [digest_line(m, tz) for m in messages if m.text.strip() or m.media_type]


@dataclass(frozen=True)
class LLMDigest:
    """The model's digest and what produced it."""

    text: str
    provider: str
    model: str
    prompt: str
    prompt_hash: str
    lines_sent: int
    lines_total: int

    @property
    def cut(self) -> bool:
        """True when older messages were left out to fit the model's window."""
        return self.lines_sent < self.lines_total


def input_budget(client: LLMClient, prompt: Prompt, empty_prompt: Sequence[ChatMessage]) -> int:
    """Tokens left for the messages: window − maximum output − the prompt without its
    messages − margin."""
    window = client.model.window
    max_output = (
        client.target.max_tokens or prompt.defaults.max_tokens or client.model.max_output or 0
    )
    if client.model.max_output is not None:
        max_output = min(max_output, client.model.max_output)
    fixed = sum(client.count_tokens(m.content) for m in empty_prompt)
    margin = max(MIN_MARGIN, int(window * MARGIN_SHARE))
    return window - max_output - fixed - margin


def newest_that_fit(lines: Sequence[str], budget: int, count: Callable[[str], int]) -> list[str]:
    """The newest ``lines`` (kept in order) whose tokens, newlines included, fit ``budget``."""
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        used += count(line + "\n")
        if used > budget:
            break
        kept.append(line)
    kept.reverse()
    return kept


def _messages(prompt: Prompt, values: dict[str, str]) -> list[ChatMessage]:
    rendered = prompt.render(**values)
    turns = [ChatMessage("system", rendered.system)] if rendered.system.strip() else []
    turns.append(ChatMessage("user", rendered.user))
    return turns


async def write_llm_digest(
    client: LLMClient,
    prompt: Prompt,
    *,
    chat_name: str,
    period: str,
    lines: Sequence[str],
) -> LLMDigest:
    """Ask the model for the digest of ``lines`` (chronological); older lines are left
    out when they do not fit. ProviderError when the call fails after retries."""
    values = {"chat_name": chat_name, "period": period}
    budget = input_budget(client, prompt, _messages(prompt, {**values, "messages": ""}))
    sent = newest_that_fit(lines, budget, client.count_tokens)
    if not sent:
        raise ConfigError(
            f"model {client.model.name}: its window ({client.model.window} tokens) leaves no "
            "room for the messages",
            hint="choose a model with a larger window, or lower --max-tokens",
        )
    ref = PromptRef(
        prompt.name, prompt.hash, prompt.defaults.temperature, prompt.defaults.max_tokens
    )
    completion: Completion = await client.complete(
        _messages(prompt, {**values, "messages": "\n".join(sent)}), prompt=ref
    )
    return LLMDigest(
        text=completion.text.strip(),
        provider=completion.provider,
        model=completion.model,
        prompt=prompt.name,
        prompt_hash=prompt.hash,
        lines_sent=len(sent),
        lines_total=len(lines),
    )


async def digest_messages(
    client: LLMClient,
    prompt: Prompt,
    messages: Sequence[Message],
    *,
    tz: tzinfo,
    chat_name: str,
    period: str,
    anonymizer: Anonymizer | None = None,
) -> LLMDigest:
    """:func:`write_llm_digest` of ``messages``' lines. With an ``anonymizer``
    (``--anonymize``) the model reads pseudonyms and masked texts, and the digest it
    writes is revealed (real names, phones and e-mails) before it is returned."""
    if anonymizer is None:
        lines = digest_lines(messages, tz)
        return await write_llm_digest(
            client, prompt, chat_name=chat_name, period=period, lines=lines
        )
    lines = digest_lines(anonymizer.messages(messages), tz)
    result = await write_llm_digest(
        client, prompt, chat_name=anonymizer.text(chat_name), period=period, lines=lines
    )
    return replace(result, text=anonymizer.reveal(result.text))
