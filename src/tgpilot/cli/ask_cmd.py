"""``tgpilot ask "QUESTION"``: an answer from your archive with numbered citations
(spec ai.md §4.9, §5).

Retrieves the top ``--k`` chunks of the semantic index (``rag index`` builds it) — or,
in the graph modes (``local``, ``global``, ``hybrid``, ``mix``; ``graph`` = ``local``),
the passages LightRAG's knowledge graph returns (``rag graph build``) — renders them as
numbered sources in ``ask.md`` and prints the answer with its ``[n]`` citations and a
"Sources" list (n, chat, date, sender, link). A citation of a source
that was not given is stripped with a warning. Nothing retrieved → no model call. In
local mode (``--provider local``, or no key: a notice) the passages are the answer;
a provider failing with ``llm.fallback: local`` also prints them (degraded, exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.llm_support import (
    LLMFlags,
    MaxTokensOpt,
    ModelOpt,
    ProviderOpt,
    TemperatureOpt,
    usage_json,
    usage_line,
)
from tgpilot.cli.options import JsonFlag
from tgpilot.cli.rag_cmd import EmbeddingsOpt, open_rag, resolve_chats, search_filters
from tgpilot.core.errors import EXIT_PARTIAL, ConfigError, ProviderError, UsageError

if TYPE_CHECKING:
    from tgpilot.gateways.llm.client import LLMClient
    from tgpilot.gateways.llm.types import UsageTotals
    from tgpilot.services.prompts import Prompt
    from tgpilot.services.rag.ask import CheckedAnswer
    from tgpilot.services.rag.passages import Passage

COMMAND = "ask"
LOCAL = "local"


@dataclass(frozen=True)
class AskOutcome:
    """The passages retrieved, the checked answer (None: local mode) and usage."""

    passages: list[Passage]
    answer: CheckedAnswer | None
    degraded: bool
    notice: str | None
    usage: UsageTotals | None
    streamed: bool = False


def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="Your question, in your own words.")],
    chat: Annotated[list[str] | None, typer.Option("--chat", help="Only this chat.")] = None,
    mode: Annotated[
        str,
        typer.Option(
            "--mode", help="vector (= naive); graph modes: local (= graph), global, hybrid, mix."
        ),
    ] = "vector",
    k: Annotated[int | None, typer.Option("--k", min=1, help="Sources retrieved (rag.k).")] = None,
    stream: Annotated[bool, typer.Option("--stream", help="Print the answer as it comes.")] = False,
    prompt: Annotated[str, typer.Option("--prompt", help="Prompt name or file.")] = COMMAND,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None,
    embeddings: EmbeddingsOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Answer a question from your archived chats, citing the messages."""
    from tgpilot.services.rag.ask import MODES

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if not question.strip():
        raise UsageError("the question is empty")
    chosen_mode = mode.strip().lower()
    if chosen_mode not in MODES:
        raise UsageError(f"unknown --mode {mode!r}: use {', '.join(MODES)}")
    flags = LLMFlags(provider, model, temperature, max_tokens)
    library_prompt, notice = _mode(app_ctx, flags, prompt)
    if notice is not None:
        app_ctx.output.info(notice)
    outcome = run_async(
        _run(
            app_ctx,
            question,
            chosen_mode,
            list(chat or []),
            k or app_ctx.config.rag.k,
            library_prompt,
            flags,
            embeddings,
            stream=stream and not json_mode,
        )
    )
    _finish(app_ctx, outcome, json_mode)


def _mode(
    app_ctx: AppContext, flags: LLMFlags, prompt_ref: str
) -> tuple[Prompt | None, str | None]:
    """The prompt of a model's answer, or None for local mode (with a notice when no
    key is configured). A bad provider or prompt fails here, before any reading."""
    from tgpilot.gateways.llm.factory import load_config_catalogue
    from tgpilot.gateways.llm.resolve import resolve_llm
    from tgpilot.services.prompts import PromptLibrary

    config = app_ctx.config
    try:
        target = resolve_llm(
            config,
            COMMAND,
            load_config_catalogue(config),
            provider=flags.provider,
            model=flags.model,
            temperature=flags.temperature,
            max_tokens=flags.max_tokens,
        )
    except ConfigError as exc:
        if flags.provider is not None and flags.provider != LOCAL:
            raise
        return None, f"notice: {exc.message}; showing the retrieved passages only"
    if target.provider == LOCAL:
        return None, None
    library = PromptLibrary.from_config(config, clock=app_ctx.runtime.clock)
    return library.load(prompt_ref), None


async def _run(
    app_ctx: AppContext,
    question: str,
    mode: str,
    chat_names: list[str],
    k: int,
    prompt: Prompt | None,
    flags: LLMFlags,
    embeddings: str | None,
    *,
    stream: bool,
) -> AskOutcome:
    from tgpilot.cli.rag_cmd import optional_llm_client
    from tgpilot.services.rag.ask import VECTOR_MODES

    passages: list[Passage] = []
    if mode in VECTOR_MODES:
        passages = await _indexed_passages(app_ctx, question, chat_names, k, embeddings)
        if prompt is None or not passages:
            return AskOutcome(passages, None, False, None, None)
    async with optional_llm_client(app_ctx, COMMAND, flags, prompt is not None) as client:
        try:
            if mode not in VECTOR_MODES:
                passages = await _graph_passages(
                    app_ctx, question, mode, chat_names, k, client, embeddings
                )
            if client is None or prompt is None or not passages:
                usage = client.usage_summary() if client is not None else None
                return AskOutcome(passages, None, False, None, usage)
            answer = await _answer(app_ctx, client, prompt, question, passages, stream)
        except ProviderError as exc:
            if app_ctx.config.llm.fallback != LOCAL or client is None:
                raise
            notice = f"{exc.message}; llm.fallback is local: showing the passages (degraded)"
            return AskOutcome(passages, None, True, notice, client.usage_summary())
        return AskOutcome(passages, answer, False, None, client.usage_summary(), streamed=stream)


async def _indexed_passages(
    app_ctx: AppContext, question: str, chat_names: list[str], k: int, embeddings: str | None
) -> list[Passage]:
    """The top ``k`` chunks of the semantic index."""
    from tgpilot.services.rag.search import search_archive

    async with open_rag(app_ctx, embeddings) as rag:
        chats = await resolve_chats(app_ctx, rag.store, chat_names)
        filters = search_filters(app_ctx, chats, None, None, None, None)
        return await search_archive(rag.vectors, rag.embedder, question, limit=k, filters=filters)


async def _graph_passages(
    app_ctx: AppContext,
    question: str,
    mode: str,
    chat_names: list[str],
    k: int,
    client: LLMClient | None,
    embeddings: str | None,
) -> list[Passage]:
    """The passages the knowledge graph returns in ``mode`` (only ``chat_names``' when
    given); LightRAG extracts the keywords with ``client``, locally without one."""
    from tgpilot.cli.rag_cmd import graph_context

    chat_ids: set[int] = set()
    if chat_names:
        async with app_ctx.open_store() as store:
            chat_ids = {c.id for c in await resolve_chats(app_ctx, store, chat_names)}
    found = await graph_context(
        app_ctx, question, mode=mode, k=k, client=client, answer=False, embeddings=embeddings
    )
    return [p for p in found.passages if not chat_ids or p.chat_id in chat_ids]


async def _answer(
    app_ctx: AppContext,
    client: LLMClient,
    prompt: Prompt,
    question: str,
    passages: list[Passage],
    stream: bool,
) -> CheckedAnswer:
    """The model's answer over ``passages``, citations checked (streamed with ``stream``)."""
    from tgpilot.services.rag.ask import answer_question

    if stream:
        return await _stream(app_ctx, client, prompt, question, passages)
    return await answer_question(client, prompt, question, passages)


async def _stream(
    app_ctx: AppContext, client: Any, prompt: Prompt, question: str, passages: list[Passage]
) -> CheckedAnswer:
    import sys

    from tgpilot.services.rag.ask import CheckedAnswer, stream_answer

    final = CheckedAnswer("", (), ())
    async for item in stream_answer(client, prompt, question, passages):
        if isinstance(item, str):
            sys.stdout.write(item)
            sys.stdout.flush()
        else:
            final = item
    sys.stdout.write("\n")
    return final


def _finish(app_ctx: AppContext, outcome: AskOutcome, json_mode: bool) -> None:
    from tgpilot.cli.rag_cmd import print_passage

    out = app_ctx.output
    if outcome.notice:
        out.warn(outcome.notice)
    answer = outcome.answer
    if answer is not None and answer.invalid:
        listed = ", ".join(f"[{n}]" for n in answer.invalid)
        out.warn(
            f"the answer cited {listed}, which no source has: "
            + ("ignore it" if outcome.streamed else "removed")
        )
    if json_mode:
        document: dict[str, Any] = {
            "answer": answer.text if answer is not None else None,
            "citations": [{"n": n, **_citation(p)} for n, p in enumerate(outcome.passages, 1)],
            "cited": list(answer.cited) if answer is not None else [],
            "invalid_citations": list(answer.invalid) if answer is not None else [],
            "degraded": outcome.degraded,
            "usage": usage_json(outcome.usage) if outcome.usage is not None else None,
        }
        out.emit_json(document)
    elif not outcome.passages:
        out.line(
            "nothing in the archive matches this question (is it indexed? tgpilot rag index --all)"
        )
    elif answer is None:
        for n, passage in enumerate(outcome.passages, 1):
            print_passage(app_ctx, passage, n)
    else:
        if not outcome.streamed:
            out.line(answer.text)
        out.line("")
        out.line("Sources:")
        _print_sources(app_ctx, outcome.passages)
    if outcome.usage is not None:
        out.info(usage_line(outcome.usage))
    if outcome.degraded:
        raise typer.Exit(EXIT_PARTIAL)


def _citation(passage: Passage) -> dict[str, Any]:
    return {
        "chat_id": passage.chat_id,
        "chat": passage.chat_title,
        "message_ids": list(passage.message_ids),
        "date": passage.date.isoformat(),
        "sender": passage.sender,
        "snippet": passage.snippet,
        "score": round(passage.score, 4),
        "link": passage.link,
    }


def _print_sources(app_ctx: AppContext, passages: list[Passage]) -> None:
    from tgpilot.core.output import human_time

    tz = app_ctx.config.output.tz
    for n, passage in enumerate(passages, 1):
        app_ctx.output.line(
            f"[{n}] {passage.chat_title} · {human_time(passage.date, tz)} · "
            f"{passage.sender} · {passage.link}"
        )
