"""``tgpilot rag graph build|query``: Graph-RAG over the archive (spec ai.md §4.10).

The knowledge graph is LightRAG's, under ``<data dir>/lightrag`` (the optional
``tgpilot[graph]`` extra); the services are in :mod:`tgpilot.services.rag.graph`. The
graph session and query helpers that ``tgpilot ask`` shares (``open_graph_session``,
``graph_context``), like the archive helpers, stay in :mod:`tgpilot.cli.rag_cmd`;
:mod:`tgpilot.cli.app` mounts this group under ``rag`` as ``rag graph``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.llm_support import LLMFlags, ModelOpt, ProviderOpt
from tgpilot.cli.options import CHAT_ARGUMENT_SETTINGS, JsonFlag, SinceOpt
from tgpilot.cli.rag_cmd import (
    GRAPH_COMMAND,
    EmbeddingsOpt,
    graph_context,
    open_graph_session,
    optional_llm_client,
    print_passage,
    resolve_chats,
    when,
)
from tgpilot.core.errors import EXIT_ERROR, EXIT_PARTIAL, UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from tgpilot.services.rag.graph.query import GraphContext

app = typer.Typer(
    help="Graph-RAG over the archive (lightrag-hku, extra tgpilot[graph]).", no_args_is_help=True
)


def graph_uses_model(app_ctx: AppContext, flags: LLMFlags, instead: str) -> bool:
    """Whether graph work asks a model: not with ``--provider local`` (or ``local`` by
    configuration), nor without a key (a notice saying what happens ``instead``). A bad
    provider, or a broken ``rag_document.md`` override, fails here (exit 2)."""
    from tgpilot.cli.llm_support import model_job
    from tgpilot.services.rag.graph.documents import DOCUMENT_PROMPT

    return model_job(app_ctx, GRAPH_COMMAND, flags, DOCUMENT_PROMPT, instead=instead) is not None


@app.command("build", context_settings=CHAT_ARGUMENT_SETTINGS)
def graph_build(
    ctx: typer.Context,
    chats: Annotated[
        list[str] | None, typer.Argument(help="Archived chats (default: every one).")
    ] = None,
    since: SinceOpt = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Empty the graph and build it again.")
    ] = False,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    embeddings: EmbeddingsOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Insert archived chunks into the knowledge graph (only new ones)."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    flags = LLMFlags(provider, model)
    use_model = graph_uses_model(app_ctx, flags, "building the graph with the heuristic extractor")
    start = when(app_ctx, since, "--since")
    report = run_async(
        _graph_build(app_ctx, list(chats or []), start, rebuild, flags, use_model, embeddings)
    )
    out = app_ctx.output
    if json_mode:
        out.emit_json(report.to_json())
    else:
        out.line(
            f"{report.chats} chats, {report.messages} messages, {report.documents} documents: "
            f"{report.added} added, {report.skipped} skipped ({report.extractor} extractor)"
        )
        if report.waiting:
            out.info(f"{report.waiting} conversations still going on: their last chunk waits")
        out.line(f"graph: {report.nodes} entities, {report.edges} relations")
        out.info(f"{report.llm_calls} LLM calls, {report.embedding_calls} embedding calls")
    if report.failed:
        out.warn(f"{report.error}; not in the graph yet: {', '.join(report.failed)} (rerun)")
        raise typer.Exit(EXIT_PARTIAL if report.added or report.skipped else EXIT_ERROR)


async def _graph_build(
    app_ctx: AppContext,
    names: list[str],
    since: datetime | None,
    rebuild: bool,
    flags: LLMFlags,
    use_model: bool,
    embeddings: str | None,
) -> Any:
    from tgpilot.core.output import progress_bar
    from tgpilot.gateways.llm.tokens import count_tokens
    from tgpilot.services.prompts import PromptLibrary
    from tgpilot.services.rag.archive import StoreArchive
    from tgpilot.services.rag.extract import load_stopwords
    from tgpilot.services.rag.graph.build import GraphBuilder
    from tgpilot.services.rag.graph.documents import DOCUMENT_PROMPT
    from tgpilot.services.rag.index import IndexSettings

    config = app_ctx.config
    prompt = PromptLibrary.from_config(config, clock=app_ctx.runtime.clock).load(DOCUMENT_PROMPT)
    stopwords = load_stopwords(config.home / "wordlists")
    async with app_ctx.open_store() as store:
        chats = await resolve_chats(app_ctx, store, names) if names else await store.known_chats()
    async with (
        optional_llm_client(app_ctx, GRAPH_COMMAND, flags, use_model) as client,
        open_graph_session(app_ctx, embeddings, client, rebuild=rebuild) as (
            store,
            embedder,
            graph,
        ),
    ):
        builder = GraphBuilder(
            graph.rag,
            StoreArchive(store),
            graph.catalogue,
            prompt,
            use_model=client is not None,
            stopwords=stopwords,
            count_tokens=count_tokens,
            now=app_ctx.runtime.clock.now(),
            settings=IndexSettings(config.rag.chunk_tokens, config.rag.gap_minutes),
        )
        requests = embedder.requests
        with progress_bar(app_ctx.output, "building the graph") as progress:
            report = await builder.build(chats, since=since, progress=progress)
        report.embedding_calls = embedder.requests - requests
        report.llm_calls = len(client.records) if client is not None else 0
        return report


@app.command("query")
def graph_query(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="Your question, in your own words.")],
    mode: Annotated[
        str,
        typer.Option("--mode", help="local, global, hybrid, naive or mix (graph = local)."),
    ] = "local",
    k: Annotated[int | None, typer.Option("--k", min=1, help="Passages returned (rag.k).")] = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    embeddings: EmbeddingsOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Ask the knowledge graph: LightRAG's answer with a model, its context without."""
    from tgpilot.cli.llm_support import usage_json, usage_line
    from tgpilot.services.rag.graph.query import lightrag_mode

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if not question.strip():
        raise UsageError("the question is empty")
    lightrag_mode(mode)
    flags = LLMFlags(provider, model)
    use_model = graph_uses_model(app_ctx, flags, "showing what the graph holds, without an answer")

    async def work() -> tuple[GraphContext, Any]:
        async with optional_llm_client(app_ctx, GRAPH_COMMAND, flags, use_model) as client:
            found = await graph_context(
                app_ctx,
                question,
                mode=mode,
                k=k or app_ctx.config.rag.k,
                client=client,
                answer=True,
                embeddings=embeddings,
            )
            return found, client.usage_summary() if client is not None else None

    found, usage = run_async(work())
    out = app_ctx.output
    if json_mode:
        document = {"question": question, **found.to_json()}
        document["usage"] = usage_json(usage) if usage is not None else None
        out.emit_json(document)
        return
    if found.answer:
        out.line(found.answer)
        out.line("")
    elif not found.entities and not found.passages:
        out.line("the knowledge graph has nothing on this")
    if found.entities:
        out.line("Entities: " + ", ".join(f"{e['name']} ({e['type']})" for e in found.entities))
    if found.relations:
        out.line(
            "Relations: " + ", ".join(f"{r['source']} — {r['target']}" for r in found.relations)
        )
    for n, passage in enumerate(found.passages, 1):
        print_passage(app_ctx, passage, n)
    if usage is not None:
        out.info(usage_line(usage))
