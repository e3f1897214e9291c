"""``tgpilot export CHAT``: a chat's history to a file (md, transcript, json, jsonl, csv)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import (
    ArchiveFlag,
    JsonFlag,
    SinceOpt,
    TitleContainsOpt,
    UntilOpt,
    chosen_chat,
)
from tgpilot.core.errors import EXIT_PARTIAL, UsageError

if TYPE_CHECKING:
    from tgpilot.services.export.run import ExportOptions, ExportResult


def export(
    ctx: typer.Context,
    chat: Annotated[str | None, typer.Argument(help="Alias, link, @username or id.")] = None,
    title_contains: TitleContainsOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", help="md | transcript | json | jsonl | csv.")
    ] = "md",
    out: Annotated[Path | None, typer.Option("--out", help="Output file, or - for stdout.")] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", help="Newest N messages (0 = all; default limits.default)."),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    text_only: Annotated[
        bool, typer.Option("--text-only", help="Only messages with text.")
    ] = False,
    include_service: Annotated[
        bool, typer.Option("--include-service", help="Keep service messages (joins, pins…).")
    ] = False,
    media: Annotated[
        str,
        typer.Option(
            "--media", help="none | all | photo,video,round,voice,audio,animation,sticker,document."
        ),
    ] = "none",
    max_media_size: Annotated[
        str, typer.Option("--max-media-size", help="Skip larger files (e.g. 50MB).")
    ] = "50MB",
    media_dir: Annotated[
        Path | None,
        typer.Option("--media-dir", help="Where media files go (default <out>_media/)."),
    ] = None,
    header: Annotated[
        str | None, typer.Option("--header", help="Transcript: text written before the messages.")
    ] = None,
    prompt_file: Annotated[
        Path | None, typer.Option("--prompt-file", help="Transcript: header read from this file.")
    ] = None,
    prompt_name: Annotated[
        str | None,
        typer.Option("--prompt", help="Transcript: header from a prompt, by name or .md path."),
    ] = None,
    ids: Annotated[bool, typer.Option("--ids", help="Transcript: show #id and ↩#reply.")] = False,
    no_timestamps: Annotated[
        bool, typer.Option("--no-timestamps", help="Transcript: no [date] bracket.")
    ] = False,
    archive: ArchiveFlag = False,
    watch: Annotated[
        bool,
        typer.Option("--watch", help="Then append new messages as they arrive (Ctrl+C stops)."),
    ] = False,
    json_flag: JsonFlag = False,
) -> None:
    """Export a chat's history, oldest first, to a file."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    chat = chosen_chat(chat, title_contains)
    if watch and fmt == "json":
        raise UsageError(
            "--watch cannot append to a json export", hint="use jsonl, csv, md or transcript"
        )
    if watch and (until is not None or archive):
        raise UsageError("--watch follows new messages live: drop --until and --archive")
    options = _options(
        app_ctx, fmt, out, limit, since, until, text_only, include_service, media,
        max_media_size, media_dir, header, prompt_file, prompt_name, ids, no_timestamps,
    )  # fmt: skip
    if watch:
        _export_and_watch(app_ctx, chat, title_contains, options)
        return
    from tgpilot.services.export.collection import fewer_collections

    with fewer_collections():
        result = run_async(_run(app_ctx, chat, title_contains, options, archive))
    _report(app_ctx, result, json_mode)


def _report(app_ctx: AppContext, result: ExportResult, json_mode: bool) -> None:
    if json_mode:
        app_ctx.output.emit_json(
            {
                "path": str(result.path),
                "messages": result.count,
                "media": {
                    "downloaded": result.media.downloaded,
                    "already_present": result.media.kept,
                    "failed": result.media.failed,
                    "skipped": dict(result.media.skipped),
                },
            }
        )
    else:
        app_ctx.output.info(result.describe())
        if result.media.skipped:
            app_ctx.output.info(f"skipped media: {result.media.skip_summary()}")
    if result.media.failed:
        raise typer.Exit(EXIT_PARTIAL)


def _options(
    app_ctx: AppContext,
    fmt: str,
    out: Path | None,
    limit: int | None,
    since: str | None,
    until: str | None,
    text_only: bool,
    include_service: bool,
    media: str,
    max_media_size: str,
    media_dir: Path | None,
    header: str | None,
    prompt_file: Path | None,
    prompt_name: str | None,
    ids: bool,
    no_timestamps: bool,
) -> ExportOptions:
    from tgpilot.core.dates import parse_size, parse_when
    from tgpilot.services.export.media import MediaSelection
    from tgpilot.services.export.run import ExportOptions

    config = app_ctx.config
    tz = config.output.tz
    if sum(given is not None for given in (header, prompt_file, prompt_name)) > 1:
        raise UsageError("give one of --header, --prompt-file and --prompt")
    prompt = header
    if prompt_file is not None:
        try:
            prompt = prompt_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--prompt-file: cannot read {prompt_file}: {exc.strerror}") from None
    if prompt_name is not None:
        prompt = _prompt_header(app_ctx, prompt_name)
    if prompt is not None and fmt != "transcript":
        raise UsageError("--header, --prompt-file and --prompt go with --format transcript")
    return ExportOptions(
        format=fmt,
        out=out,
        limit=config.limits.default if limit is None else limit,
        since=parse_when(since, tz, option="--since") if since else None,
        until=parse_when(until, tz, option="--until") if until else None,
        text_only=text_only,
        include_service=include_service,
        media=MediaSelection.parse(media, parse_size(max_media_size, option="--max-media-size")),
        media_dir=media_dir,
        prompt=prompt,
        ids=ids,
        timestamps=not no_timestamps,
    )


def _prompt_header(app_ctx: AppContext, ref: str) -> str:
    """The system text of prompt ``ref`` (name or path, user overrides included)."""
    from tgpilot.services.prompts import PromptLibrary

    library = PromptLibrary.from_config(app_ctx.config, clock=app_ctx.runtime.clock)
    return library.load(ref).render_system()


def _export_and_watch(
    app_ctx: AppContext, chat: str | None, title_contains: str | None, options: ExportOptions
) -> None:
    """Export, then follow the chat until Ctrl+C (every entry is flushed: exit 0)."""
    import contextlib
    import sys

    from tgpilot.services.export.run import STDOUT, export_chat
    from tgpilot.services.export.watch import watch_chat

    config = app_ctx.config
    tz = config.output.tz

    async def go() -> None:
        async with app_ctx.open_gateway(receive_updates=True) as gateway:
            resolved = await gateway.resolve_chat(chat, title_contains=title_contains)
            result = await export_chat(
                resolved, gateway, options, exports_dir=config.paths.exports, tz=tz,
                now=app_ctx.runtime.clock.now, download=gateway.download_media,
                warn=app_ctx.output.warn,
            )  # fmt: skip
            _report(app_ctx, result, app_ctx.output.json_mode)
            app_ctx.output.info(f"watching {resolved.title} for new messages (Ctrl+C stops)")
            target: contextlib.AbstractContextManager[TextIO] = (
                contextlib.nullcontext(sys.stdout)
                if result.path == STDOUT
                else result.path.open("a", encoding="utf-8", newline="")
            )
            with target as handle:
                await watch_chat(
                    resolved, gateway, options, handle, after_id=result.newest_id, tz=tz,
                    clock=app_ctx.runtime.clock, echo=app_ctx.output.info,
                )  # fmt: skip

    try:
        run_async(go())
    except KeyboardInterrupt:
        app_ctx.output.info("stopped watching; everything received is written")


async def _run(
    app_ctx: AppContext,
    chat: str | None,
    title_contains: str | None,
    options: ExportOptions,
    archive: bool,
) -> ExportResult:
    from tgpilot.services.export.run import export_chat

    config = app_ctx.config
    async with app_ctx.open_chat_source(chat, title_contains, archive=archive) as source:
        return await export_chat(
            source.chat,
            source.messages,
            options,
            exports_dir=config.paths.exports,
            tz=config.output.tz,
            now=app_ctx.runtime.clock.now,
            download=source.download,
            warn=app_ctx.output.warn,
        )
