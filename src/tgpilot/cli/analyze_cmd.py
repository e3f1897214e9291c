"""``tgpilot analyze CHAT…``: chat analysis reports (spec ai.md §4.1, §5).

Reads each chat's window from ``--source`` (live Telegram, the store, or a Telegram
Desktop export), keeps the messages the selection accepts, and writes a report per
chat — JSON, Markdown and a self-contained HTML page — plus an index when several
chats are analysed. The analysis is local (lexicon topics and sentiment, every
metric); a model-backed provider is not available yet, so asking for one prints a
notice and runs the local analysis. Exit 1 when no chat kept a message, 3 when some
did not.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag, chat_argument
from tgpilot.core.errors import EXIT_ERROR, EXIT_PARTIAL, UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from tgpilot.models import Chat
    from tgpilot.services.ai.analyze import ChatAnalysis, Lexicons, Selection
    from tgpilot.services.sources import MessageWindow, SourceSpec

LOCAL = "local"
DEFAULT_DAYS = 30
LLM_UNAVAILABLE = "LLM analysis is not available yet; running local analysis"


def analyze(
    ctx: typer.Context,
    chats: Annotated[
        list[str],
        typer.Argument(help="Chats: alias, link, @username, id, or a title (store/export)."),
    ],
    source: Annotated[
        str,
        typer.Option("--source", help="telegram | store | PATH of a Telegram Desktop export."),
    ] = "telegram",
    limit: Annotated[
        int, typer.Option("--limit", help="Newest N kept messages per chat (0 = all).")
    ] = 1000,
    days: Annotated[
        int | None,
        typer.Option("--days", help=f"Last N days (0 = no cutoff; default {DEFAULT_DAYS})."),
    ] = None,
    hours: Annotated[int | None, typer.Option("--hours", help="Last N hours.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this date (ISO, --tz) or 7d, 12h back.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Before this date (ISO, --tz) or 1d back.")
    ] = None,
    min_length: Annotated[
        int, typer.Option("--min-length", help="Fewest characters of text to keep a message.")
    ] = 10,
    include_bots: Annotated[
        bool, typer.Option("--include-bots", help="Keep messages from bots too.")
    ] = False,
    include_media: Annotated[
        bool, typer.Option("--include-media", help="Keep media messages whatever their text.")
    ] = False,
    formats: Annotated[
        str, typer.Option("--format", help="Report formats: json, md, html (comma-separated).")
    ] = "json,md,html",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the reports (default: <data dir>/reports)."),
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option("--provider", help="local (lexicons), or an LLM provider (not yet)."),
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """Analyse chats into JSON, Markdown and HTML reports (activity, topics, sentiment)."""
    from tgpilot.services.ai.analyze import Lexicons, Selection
    from tgpilot.services.ai.analyze.files import REPORTS_DIR, parse_formats
    from tgpilot.services.sources import message_window, parse_source

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    names = list(dict.fromkeys(chat_argument(c) or "" for c in chats))
    if not names or not all(name.strip() for name in names):
        raise UsageError("give at least one CHAT")
    spec = parse_source(source)
    kinds = parse_formats(formats)
    selection = Selection(
        min_length=min_length, include_bots=include_bots, include_media=include_media
    )
    config = app_ctx.config
    wanted = _provider(app_ctx, provider)
    if wanted != LOCAL:
        app_ctx.output.info(f"{LLM_UNAVAILABLE} (provider {wanted} was asked for)")
    tz = config.output.tz
    now = app_ctx.runtime.clock.now()
    window = message_window(
        now,
        days=days,
        hours=hours,
        since=since,
        until=until,
        limit=limit,
        tz=tz,
        default_days=DEFAULT_DAYS,
    )
    lexicons = Lexicons.load(config.moderation, override_dir=config.home / "wordlists")
    results = run_async(_analyse(app_ctx, names, spec, window, selection, lexicons, now))
    _finish(app_ctx, results, kinds, out or config.home / REPORTS_DIR, now, json_mode)


def _provider(app_ctx: AppContext, flag: str | None) -> str:
    """The provider asked for: ``--provider``, else ``llm.commands.analyze``, else ``llm``."""
    from tgpilot.core.config.settings import LLMProvider

    known = get_args(LLMProvider)
    if flag is not None:
        if flag not in known:
            raise UsageError(
                f"--provider: unknown provider {flag!r}", hint=f"use one of {', '.join(known)}"
            )
        return flag
    llm = app_ctx.config.llm
    command = llm.commands.get("analyze")
    if command is not None and command.provider is not None:
        return command.provider
    return llm.provider


async def _analyse(
    app_ctx: AppContext,
    names: list[str],
    spec: SourceSpec,
    window: MessageWindow,
    selection: Selection,
    lexicons: Lexicons,
    now: datetime,
) -> list[ChatAnalysis]:
    from tgpilot.cli.sources import open_source
    from tgpilot.core.output import progress_bar
    from tgpilot.services.ai.analyze import analyze_locally

    tz = app_ctx.config.output.tz
    async with open_source(app_ctx, spec) as opened:
        targets: dict[int, Chat] = {}
        for name in names:
            chat = await opened.resolve(name)
            targets.setdefault(chat.id, chat)
        results = []
        for chat in targets.values():
            with progress_bar(app_ctx.output, f"reading {chat.title}") as progress:
                results.append(
                    await analyze_locally(
                        chat,
                        opened.messages,
                        window=window,
                        selection=selection,
                        lexicons=lexicons,
                        tz=tz,
                        now=now,
                        source_label=spec.label,
                        progress=progress,
                    )
                )
        return results


def _finish(
    app_ctx: AppContext,
    results: list[ChatAnalysis],
    kinds: tuple[str, ...],
    out_dir: Path,
    now: datetime,
    json_mode: bool,
) -> None:
    from tgpilot.services.ai.analyze.files import write_index, write_report
    from tgpilot.services.ai.analyze.html import IndexEntry

    tz = app_ctx.config.output.tz
    out = app_ctx.output
    entries: list[IndexEntry] = []
    rows: list[dict[str, Any]] = []
    for result in results:
        chat = result.chat
        row: dict[str, Any] = {
            "chat_id": chat.id,
            "chat_name": chat.title,
            "messages": len(result.messages),
            "read": result.scanned,
            "files": {},
        }
        rows.append(row)
        if result.empty:
            out.warn(
                f"{chat.title}: nothing to analyse — none of the {result.scanned} messages "
                "read passed the window and selection (see --days, --min-length, "
                "--include-media, --include-bots)"
            )
            continue
        files = write_report(result.report, out_dir, kinds, tz)
        row["files"] = {kind: str(path) for kind, path in files.items()}
        entries.append(IndexEntry(result.report, files))
        if not json_mode:
            out.line(
                f"{chat.title} ({chat.id}): {len(result.messages)} of {result.scanned} "
                "messages analysed locally"
            )
            for kind, path in files.items():
                out.line(f"  {kind:<4} {path}")
    index = (
        write_index(entries, out_dir, kinds, generated=now, tz=tz)
        if len(results) > 1 and entries
        else {}
    )
    if json_mode:
        out.emit_json(
            {
                "provider": LOCAL,
                "reports": rows,
                "index": {kind: str(path) for kind, path in index.items()} or None,
            }
        )
    else:
        for kind, path in index.items():
            out.line(f"index {kind:<4} {path}")
    if len(entries) < len(results):
        raise typer.Exit(EXIT_PARTIAL if entries else EXIT_ERROR)
