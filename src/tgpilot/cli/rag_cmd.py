"""``tgpilot rag index|search|related|thread|stats`` and ``rag kb index|query``: semantic
search over the archive and the knowledge base (spec ai.md §4.9, §4.10).

Everything reads the store and needs no session. Vectors live in Qdrant — embedded
under ``<data dir>/qdrant`` unless ``vector.url`` names a server — and embeddings come
from ``embeddings:`` (``--embeddings hash`` works offline). The services are in
:mod:`tgpilot.services.rag`; this module parses flags, builds gateways and renders. It
also holds the helpers that ``rag graph`` (:mod:`tgpilot.cli.rag_graph_cmd`, mounted
here) and ``tgpilot ask`` share: the archive and graph sessions, chat resolution,
passage rendering.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.llm_support import LLMFlags
from tgpilot.cli.options import CHAT_ARGUMENT_SETTINGS, JsonFlag, SinceOpt, UntilOpt
from tgpilot.cli.sources import WithTranscriptsFlag
from tgpilot.core.errors import EXIT_ERROR, EXIT_PARTIAL, UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from tgpilot.gateways.llm.client import LLMClient
    from tgpilot.gateways.llm.embeddings import TextEmbedder
    from tgpilot.gateways.vectors.qdrant import VectorStore
    from tgpilot.models import Chat
    from tgpilot.services.rag.graph.query import GraphContext
    from tgpilot.services.rag.graph.session import GraphSession
    from tgpilot.services.rag.passages import Passage
    from tgpilot.services.rag.search import SearchFilters
    from tgpilot.store import Store

app = typer.Typer(
    help="Semantic search over the archive (embeddings + Qdrant).", no_args_is_help=True
)
kb_app = typer.Typer(help="Knowledge-base retrieval (Markdown files).", no_args_is_help=True)
app.add_typer(kb_app, name="kb")

COMMAND = "rag"
GRAPH_COMMAND = "rag graph"
"""The name graph work's LLM and embedding calls are recorded and configured under."""
KB_STATE_FILE = "rag/kb_state.json"

EmbeddingsOpt = Annotated[
    str | None,
    typer.Option(
        "--embeddings", help="hash, local, openai or gemini (default: embeddings.provider)."
    ),
]


@dataclass
class RagRuntime:
    """The gateways one rag command works with."""

    store: Store
    vectors: VectorStore
    embedder: TextEmbedder


@asynccontextmanager
async def open_rag(app_ctx: AppContext, embeddings: str | None) -> AsyncIterator[RagRuntime]:
    """The store, the vector store and the embedder, closed together."""
    from tgpilot.gateways.vectors import open_vector_store

    async with app_ctx.open_store() as store:
        embedder = recorded_embedder(app_ctx, store, COMMAND, embeddings)
        async with embedder, open_vector_store(app_ctx.config) as vectors:
            yield RagRuntime(store, vectors, embedder)


def recorded_embedder(
    app_ctx: AppContext, store: Store, command: str, embeddings: str | None
) -> TextEmbedder:
    """The embedder ``--embeddings`` (or ``embeddings:``) names, its calls recorded in the
    store under ``command``."""
    from tgpilot.gateways.llm.embeddings_factory import create_embedder
    from tgpilot.store.llm import LLMRepository

    return create_embedder(
        app_ctx.config,
        command,
        clock=app_ctx.runtime.clock,
        provider=embeddings,
        recorder=LLMRepository(store),
    )


async def resolve_chats(app_ctx: AppContext, store: Store, names: list[str]) -> list[Chat]:
    """The archived chats ``names`` name (exit 2 for one that resolves to nothing)."""
    from tgpilot.services.archive.chats import ArchiveChatResolver

    resolver = ArchiveChatResolver(await store.known_chats(), app_ctx.config.chats)
    chats: dict[int, Chat] = {}
    for name in names:
        chat = resolver.resolve(name)
        chats[chat.id] = chat
    return list(chats.values())


def when(app_ctx: AppContext, text: str | None, option: str) -> datetime | None:
    from tgpilot.core.dates import parse_when

    return parse_when(text, app_ctx.config.output.tz, option=option) if text else None


# --------------------------------------------------------------------------- index


@app.command("index", context_settings=CHAT_ARGUMENT_SETTINGS)
def index(
    ctx: typer.Context,
    chats: Annotated[list[str] | None, typer.Argument(help="Archived chats to index.")] = None,
    all_chats: Annotated[bool, typer.Option("--all", help="Index every archived chat.")] = False,
    since: SinceOpt = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Drop this model's index and start over.")
    ] = False,
    embeddings: EmbeddingsOpt = None,
    with_transcripts: WithTranscriptsFlag = False,
    json_flag: JsonFlag = False,
) -> None:
    """Embed archived messages into the semantic index (incremental, idempotent; edited
    messages are re-embedded)."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    names = list(chats or [])
    if not names and not all_chats:
        raise UsageError("give CHAT… or --all")
    if names and all_chats:
        raise UsageError("give either CHAT… or --all")
    start = when(app_ctx, since, "--since")
    report = run_async(_index(app_ctx, names, start, rebuild, embeddings, with_transcripts))
    out = app_ctx.output
    if json_mode:
        out.emit_json(report.to_json())
    else:
        out.line(
            f"{report.chats} chats, {report.messages} messages read ({report.changed} changed): "
            f"{report.embedded} chunks embedded, {report.unchanged} unchanged "
            f"({report.requests} embedding requests)"
        )
        if report.collection:
            out.info(f"collection {report.collection}")
    if report.failed_chats:
        out.warn(f"{report.error}; not indexed: {', '.join(report.failed_chats)} (rerun to resume)")
        raise typer.Exit(EXIT_PARTIAL if report.embedded or report.unchanged else EXIT_ERROR)


async def _index(
    app_ctx: AppContext,
    names: list[str],
    since: datetime | None,
    rebuild: bool,
    embeddings: str | None,
    with_transcripts: bool,
) -> Any:
    from tgpilot.gateways.llm.tokens import count_tokens
    from tgpilot.services.rag.annotate import chunk_annotator
    from tgpilot.services.rag.archive import StoreArchive
    from tgpilot.services.rag.index import (
        STATE_FILE,
        ArchiveIndexer,
        IndexSettings,
        IndexState,
        state_key,
    )
    from tgpilot.store.message_changes import MessageChanges
    from tgpilot.store.transcripts import TranscriptRepository

    config = app_ctx.config
    annotate = chunk_annotator(config.moderation, override_dir=config.home / "wordlists")
    async with open_rag(app_ctx, embeddings) as rag:
        chats = await resolve_chats(app_ctx, rag.store, names) if names else None
        state = IndexState(config.home / STATE_FILE, state_key(rag.vectors, rag.embedder.model))
        indexer = ArchiveIndexer(
            StoreArchive(rag.store),
            rag.vectors,
            rag.embedder,
            state,
            annotate=annotate,
            count_tokens=count_tokens,
            settings=IndexSettings(config.rag.chunk_tokens, config.rag.gap_minutes),
            changes=MessageChanges(rag.store),
            transcripts=TranscriptRepository(rag.store),
        )
        if rebuild:
            await indexer.rebuild()
        targets = chats if chats is not None else await rag.store.known_chats()
        return await indexer.index(targets, since=since, with_transcripts=with_transcripts)


# --------------------------------------------------------------------------- search


def search_filters(
    app_ctx: AppContext,
    chats: list[Chat],
    sender: str | None,
    outgoing: bool | None,
    since: str | None,
    until: str | None,
) -> SearchFilters:
    from tgpilot.services.rag.search import SearchFilters

    return SearchFilters(
        chat_ids=tuple(c.id for c in chats),
        sender=sender,
        outgoing=outgoing,
        since=when(app_ctx, since, "--since"),
        until=when(app_ctx, until, "--until"),
    )


@app.command("search")
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for, in your own words.")],
    chat: Annotated[list[str] | None, typer.Option("--chat", help="Only this chat.")] = None,
    sender: Annotated[
        str | None, typer.Option("--sender", help="Only chunks with this sender (id or name).")
    ] = None,
    outgoing: Annotated[
        bool | None,
        typer.Option("--outgoing/--incoming", help="Only chunks with (or without) your messages."),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most results.")] = 10,
    embeddings: EmbeddingsOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Find archived conversations by meaning."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if not query.strip():
        raise UsageError("the query is empty")
    passages = run_async(
        _search(app_ctx, query, list(chat or []), sender, outgoing, since, until, limit, embeddings)
    )
    out = app_ctx.output
    if json_mode:
        out.emit_json({"query": query, "results": [p.to_json() for p in passages]})
        return
    if not passages:
        out.info("nothing found (is the archive indexed? tgpilot rag index --all)")
        return
    for passage in passages:
        print_passage(app_ctx, passage)


async def _search(
    app_ctx: AppContext,
    query: str,
    chat_names: list[str],
    sender: str | None,
    outgoing: bool | None,
    since: str | None,
    until: str | None,
    limit: int,
    embeddings: str | None,
) -> list[Passage]:
    from tgpilot.services.rag.search import search_archive

    async with open_rag(app_ctx, embeddings) as rag:
        chats = await resolve_chats(app_ctx, rag.store, chat_names)
        filters = search_filters(app_ctx, chats, sender, outgoing, since, until)
        return await search_archive(rag.vectors, rag.embedder, query, limit=limit, filters=filters)


def print_passage(app_ctx: AppContext, passage: Passage, number: int | None = None) -> None:
    from tgpilot.core.output import human_time

    tz = app_ctx.config.output.tz
    head = f"[{number}] " if number is not None else f"{passage.score:.3f}  "
    app_ctx.output.line(
        f"{head}{passage.chat_title} · {human_time(passage.date, tz)} · {passage.sender}"
    )
    app_ctx.output.line(f"    {passage.snippet}")
    app_ctx.output.line(f"    {passage.link}")


# --------------------------------------------------------------------------- related, thread


@app.command("related")
def related(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="A person: id, @username or exact name.")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most people listed.")] = 20,
    json_flag: JsonFlag = False,
) -> None:
    """Rank the people a person interacts with (replies ×3, mentions ×2, nearby ×1)."""
    from tgpilot.services.rag.archive import StoreArchive
    from tgpilot.services.rag.chunking import person_name
    from tgpilot.services.rag.related import related_people

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)

    async def work() -> Any:
        async with app_ctx.open_store() as store:
            return await related_people(StoreArchive(store), user, limit=limit)

    who, people = run_async(work())
    out = app_ctx.output
    if json_mode:
        out.emit_json(
            {
                "user": {"id": who.id, "name": person_name(who)},
                "related": [p.to_json() for p in people],
            }
        )
        return
    out.info(f"people {person_name(who)} interacts with")
    for person in people:
        out.line(
            f"{person.score:>5}  {person.name} (replies {person.replies}, mentions "
            f"{person.mentions}, nearby {person.nearby}) — {', '.join(person.chats)}"
        )


@app.command("thread", context_settings=CHAT_ARGUMENT_SETTINGS)
def thread(
    ctx: typer.Context,
    chat: Annotated[str, typer.Argument(help="Archived chat.")],
    message_id: Annotated[int, typer.Argument(help="Message id.")],
    depth: Annotated[int, typer.Option("--depth", min=1, help="Levels up and down.")] = 10,
    json_flag: JsonFlag = False,
) -> None:
    """Rebuild the reply chain around a message."""
    from tgpilot.core.output import human_time
    from tgpilot.services.rag.archive import StoreArchive
    from tgpilot.services.rag.chunking import sender_name
    from tgpilot.services.rag.passages import message_link
    from tgpilot.services.rag.related import reply_thread

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)

    async def work() -> Any:
        async with app_ctx.open_store() as store:
            (resolved,) = await resolve_chats(app_ctx, store, [chat])
            lines = await reply_thread(StoreArchive(store), resolved, message_id, depth=depth)
            return resolved, lines

    resolved, lines = run_async(work())
    out = app_ctx.output

    def link(mid: int) -> str:
        return message_link(resolved.id, resolved.raw_id, resolved.username, mid)

    if json_mode:
        out.emit_json(
            {
                "chat_id": resolved.id,
                "chat": resolved.title,
                "messages": [
                    {
                        "depth": line.depth,
                        "id": line.message.id,
                        "date": line.message.date.astimezone(UTC).isoformat(),
                        "sender": sender_name(line.message),
                        "reply_to": line.message.reply_to_id,
                        "text": line.message.text,
                        "link": link(line.message.id),
                    }
                    for line in lines
                ],
            }
        )
        return
    tz = app_ctx.config.output.tz
    base = min(line.depth for line in lines)
    for line in lines:
        indent = "  " * (line.depth - base)
        message = line.message
        out.line(
            f"{indent}#{message.id} {human_time(message.date, tz)} {sender_name(message)}: "
            f"{' '.join(message.text.split())}"
        )


# --------------------------------------------------------------------------- stats


@app.command("stats")
def stats(
    ctx: typer.Context,
    embeddings: EmbeddingsOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Points, dimension and collection of the index; graph nodes and edges."""
    from tgpilot.gateways.llm.embeddings_factory import embedding_settings
    from tgpilot.gateways.vectors import open_vector_store

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    settings = embedding_settings(app_ctx.config, embeddings)

    async def work() -> tuple[list[Any], tuple[int, int]]:
        from tgpilot.services.rag.graph.session import graph_counts

        async with open_vector_store(app_ctx.config) as vectors:
            infos = []
            for name in await vectors.collections():
                info = await vectors.collection(name)
                if info is not None:
                    infos.append(info)
        return infos, await graph_counts(app_ctx.config)

    infos, (nodes, edges) = run_async(work())
    out = app_ctx.output
    document = {
        "embeddings": {"provider": settings.provider, "model": settings.model},
        "collections": [
            {"name": i.name, "points": i.points, "dimension": i.dimension} for i in infos
        ],
        "points": sum(i.points for i in infos if i.name.startswith("messages__")),
        "graph": {"nodes": nodes, "edges": edges},
    }
    if json_mode:
        out.emit_json(document)
        return
    out.line(f"embeddings: {settings.provider} {settings.model}")
    if not infos:
        out.line("no collections yet (tgpilot rag index --all)")
    for info in infos:
        out.line(f"{info.name}: {info.points} points, dimension {info.dimension}")
    out.line(f"graph: {nodes} nodes, {edges} edges")


# --------------------------------------------------------------------------- graph (rag graph, ask)


@asynccontextmanager
async def open_graph_session(
    app_ctx: AppContext,
    embeddings: str | None,
    client: LLMClient | None,
    *,
    rebuild: bool = False,
) -> AsyncIterator[tuple[Store, TextEmbedder, GraphSession]]:
    """The store, the embedder and the open knowledge graph, closed together."""
    from tgpilot.services.rag.graph.session import open_graph

    config = app_ctx.config
    async with app_ctx.open_store() as store:
        embedder = recorded_embedder(app_ctx, store, GRAPH_COMMAND, embeddings)
        async with embedder, open_graph(config, embedder, client, rebuild=rebuild) as graph:
            yield store, embedder, graph


@asynccontextmanager
async def optional_llm_client(
    app_ctx: AppContext, command: str, flags: LLMFlags, use_model: bool
) -> AsyncIterator[LLMClient | None]:
    """The command's LLM client when it uses a model, else None."""
    from tgpilot.cli.llm_support import open_llm_client

    if not use_model:
        yield None
        return
    async with open_llm_client(app_ctx, command, flags) as client:
        yield client


async def graph_context(
    app_ctx: AppContext,
    question: str,
    *,
    mode: str,
    k: int,
    client: LLMClient | None,
    answer: bool,
    embeddings: str | None,
) -> GraphContext:
    """What the knowledge graph holds on ``question`` (LightRAG's answer too, with a
    client and ``answer``)."""
    from tgpilot.services.rag.extract import load_stopwords
    from tgpilot.services.rag.graph.query import query_graph
    from tgpilot.services.rag.graph.session import catalogue_of

    if not len(catalogue_of(app_ctx.config)):
        raise UsageError(
            "the knowledge graph is not built yet", hint="run: tgpilot rag graph build"
        )
    stopwords = load_stopwords(app_ctx.config.home / "wordlists")
    async with open_graph_session(app_ctx, embeddings, client) as (_, _, graph):
        return await query_graph(
            graph.rag,
            graph.catalogue,
            question,
            mode=mode,
            k=k,
            use_model=client is not None,
            answer=answer,
            stopwords=stopwords,
        )


# --------------------------------------------------------------------------- knowledge base


def _kb_folder(app_ctx: AppContext, folder: Path | None) -> Path:
    chosen = folder or app_ctx.config.kb.dir
    if chosen is None:
        raise UsageError("no knowledge-base folder", hint="give DIR or set kb.dir")
    if not chosen.is_dir():
        raise UsageError(f"{chosen} is not a folder")
    return chosen


@asynccontextmanager
async def open_kb(
    app_ctx: AppContext, embeddings: str | None, name: str | None
) -> AsyncIterator[Any]:
    from tgpilot.gateways.llm.tokens import count_tokens
    from tgpilot.services.rag.extract import load_stopwords
    from tgpilot.services.rag.kb import KnowledgeBase

    settings = app_ctx.config.kb
    async with open_rag(app_ctx, embeddings) as rag:
        yield KnowledgeBase(
            name or settings.name,
            rag.vectors,
            rag.embedder,
            app_ctx.config.home / KB_STATE_FILE,
            count_tokens=count_tokens,
            chunk_tokens=settings.chunk_tokens,
            chunk_words=settings.chunk_words,
            overlap_words=settings.overlap_words,
            stopwords=load_stopwords(app_ctx.config.home / "wordlists"),
        )


@kb_app.command("index")
def kb_index(
    ctx: typer.Context,
    folder: Annotated[
        Path | None, typer.Argument(help="Folder of *.md files (default kb.dir).")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Knowledge base (default kb.name).")
    ] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-embed every file.")] = False,
    embeddings: EmbeddingsOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Index a folder of Markdown files (only changed files are re-embedded)."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    chosen = _kb_folder(app_ctx, folder)

    async def work() -> Any:
        async with open_kb(app_ctx, embeddings, name) as kb:
            return await kb.index(chosen, rebuild=rebuild)

    report = run_async(work())
    if json_mode:
        app_ctx.output.emit_json(report.to_json())
        return
    app_ctx.output.line(
        f"{report.files} files: {len(report.changed)} changed, {len(report.removed)} removed, "
        f"{report.chunks_embedded} chunks embedded ({report.requests} embedding requests)"
    )


@kb_app.command("query")
def kb_query(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Knowledge base (default kb.name).")
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", min=1, help="Chunks returned (kb.top_k).")
    ] = None,
    embeddings: EmbeddingsOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Show the knowledge-base chunks a question retrieves."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    settings = app_ctx.config.kb

    async def work() -> Any:
        async with open_kb(app_ctx, embeddings, name) as kb:
            return await kb.query(
                question, top_k=top or settings.top_k, min_score=settings.min_score
            )

    hits = run_async(work())
    if json_mode:
        app_ctx.output.emit_json({"question": question, "results": [h.to_json() for h in hits]})
        return
    if not hits:
        app_ctx.output.line("the knowledge base has nothing on this")
    for n, hit in enumerate(hits, 1):
        app_ctx.output.line(f"[{n}] {hit.score:.3f} {hit.chunk.title}")
