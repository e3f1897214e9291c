"""``tgpilot import PATH``: a Telegram Desktop export into the archive (offline, no lock)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag
from tgpilot.core.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from tgpilot.services.desktop_import import ImportSummary, MediaMode
    from tgpilot.store import Store

    ProgressFn = Callable[[int, int | None], None]


def import_export(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="result.json of a Telegram Desktop export, or its folder.")
    ],
    media: Annotated[
        str,
        typer.Option("--media", help="link (absolute paths) | copy (into the data dir) | skip."),
    ] = "link",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and count; write nothing.")
    ] = False,
    json_flag: JsonFlag = False,
) -> None:
    """Import a Telegram Desktop export (one chat or the whole account) into the archive."""
    from tgpilot.core.output import progress_bar
    from tgpilot.services.desktop_import import import_desktop_export
    from tgpilot.services.desktop_import.service import MEDIA_MODES

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if media not in MEDIA_MODES:
        raise UsageError(f"--media: unknown mode {media!r}; allowed: {', '.join(MEDIA_MODES)}")
    config = app_ctx.config

    mode = cast("MediaMode", media)

    async def into(store: Store | None, progress: ProgressFn) -> ImportSummary:
        return await import_desktop_export(
            path,
            store,
            tz=config.output.tz,
            media=mode,
            home=config.paths_resolved.home,
            dry_run=store is None,
            progress=progress,
            clock=app_ctx.runtime.clock,
        )

    async def go() -> ImportSummary:
        with progress_bar(app_ctx.output, "importing") as progress:
            if dry_run:
                return await into(None, progress)
            async with app_ctx.open_store() as store:
                return await into(store, progress)

    summary = run_async(go())
    if json_mode:
        app_ctx.output.emit_json(
            {
                "chats": summary.chats,
                "inserted": summary.inserted,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "skipped": summary.skipped,
                "media_missing": summary.media_missing,
                "dry_run": summary.dry_run,
            }
        )
    else:
        app_ctx.output.line(summary.describe())
        if summary.media_missing:
            app_ctx.output.warn(
                f"{summary.media_missing} media files named in the export are missing"
            )
