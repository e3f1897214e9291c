"""``tgpilot archive sync``: keep chats' history in the local store."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import CHAT_ARGUMENT_SETTINGS, JsonFlag, chat_argument
from tgpilot.core.errors import EXIT_ERROR, EXIT_PARTIAL, UsageError

if TYPE_CHECKING:
    from tgpilot.services.archive.sync import ChatSyncResult, SyncOptions

app = typer.Typer(help="Keep chats' history in the local archive.", no_args_is_help=True)


@app.command(context_settings=CHAT_ARGUMENT_SETTINGS)
def sync(
    ctx: typer.Context,
    chats: Annotated[list[str] | None, typer.Argument(help="Chats to sync.")] = None,
    all_dialogs: Annotated[bool, typer.Option("--all", help="Every dialog of --types.")] = False,
    types: Annotated[
        str, typer.Option("--types", help="With --all: chat types to sync.")
    ] = "group,supergroup,channel",
    max_chats: Annotated[int, typer.Option("--max-chats", help="With --all: at most N.")] = 0,
    since: Annotated[
        str | None, typer.Option("--since", help="Backfill no further back than this date (UTC).")
    ] = None,
    days: Annotated[int | None, typer.Option("--days", help="Backfill the last N days.")] = None,
    limit_per_chat: Annotated[
        int, typer.Option("--limit-per-chat", help="Older messages per chat and run (0 = all).")
    ] = 0,
    media: Annotated[
        str,
        typer.Option(
            "--media",
            help="Download media files: none | all | "
            "photo,video,round,voice,audio,animation,sticker,document.",
        ),
    ] = "none",
    max_media_size: Annotated[
        str, typer.Option("--max-media-size", help="Skip larger files (e.g. 50MB).")
    ] = "50MB",
    json_flag: JsonFlag = False,
) -> None:
    """Catch up and backfill chats into the archive (resumable; reruns write nothing).

    With --media, files go to <data dir>/media/<chat id>/ and their paths are stored
    with the messages (export --archive links them)."""
    from tgpilot.core.dates import parse_size, parse_when
    from tgpilot.services.archive.sync import MEDIA_FOLDER, SyncOptions
    from tgpilot.services.chats import parse_types
    from tgpilot.services.export.collection import fewer_collections
    from tgpilot.services.export.media import MediaSelection

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    names = [chat_argument(c) or "" for c in chats or []]
    if bool(names) == all_dialogs:
        raise UsageError("give CHAT names or --all")
    if since is not None and days is not None:
        raise UsageError("give --since or --days, not both")
    bound = parse_when(since, UTC, option="--since") if since else None
    if days is not None:
        if days <= 0:
            raise UsageError("--days must be positive")
        bound = app_ctx.runtime.clock.now() - timedelta(days=days)
    if limit_per_chat < 0 or max_chats < 0:
        raise UsageError("--limit-per-chat and --max-chats must be 0 (all) or positive")
    selection = MediaSelection.parse(media, parse_size(max_media_size, option="--max-media-size"))
    options = SyncOptions(
        since=bound,
        limit_per_chat=limit_per_chat,
        media=selection,
        media_root=app_ctx.config.paths_resolved.home / MEDIA_FOLDER if selection.enabled else None,
    )
    kinds = parse_types(types) if all_dialogs else None
    with fewer_collections():
        results = run_async(_run(app_ctx, names, kinds, max_chats, options))
    out = app_ctx.output
    if json_mode:
        out.emit_json([_result_json(r) for r in results])
    else:
        for result in results:
            out.line(result.describe())
    failed = sum(1 for r in results if r.error)
    if failed == len(results) and failed:
        raise typer.Exit(EXIT_ERROR)
    if failed or any(r.media_failed for r in results):
        raise typer.Exit(EXIT_PARTIAL)


def _result_json(result: ChatSyncResult) -> dict[str, object]:
    row: dict[str, object] = {
        "chat_id": result.chat.id,
        "title": result.chat.title,
        "inserted": result.counts.inserted,
        "updated": result.counts.updated,
        "unchanged": result.counts.unchanged,
        "stored": result.stored,
        "error": result.error,
    }
    if result.media is not None:
        row["media"] = {
            "downloaded": result.media.downloaded,
            "already_present": result.media.kept,
            "failed": result.media.failed,
            "skipped": dict(result.media.skipped),
        }
    return row


async def _run(
    app_ctx: AppContext,
    names: list[str],
    kinds: frozenset[object] | None,
    max_chats: int,
    options: SyncOptions,
) -> list[ChatSyncResult]:
    from tgpilot.core.output import progress_bar
    from tgpilot.models import Chat
    from tgpilot.services.archive.sync import ArchiveSync
    from tgpilot.store import ChatRecord

    async with app_ctx.open_store() as store, app_ctx.open_gateway() as gateway:
        targets: list[tuple[Chat, ChatRecord | None]]
        if kinds is None:
            targets = [(await gateway.resolve_chat(name), None) for name in names]
        else:
            dialogs = await gateway.list_dialogs(None)
            chosen = [d for d in dialogs if d.chat.type in kinds]
            chosen = chosen[:max_chats] if max_chats else chosen
            targets = [(d.chat, ChatRecord.from_dialog(d)) for d in chosen]
        results = []
        with progress_bar(app_ctx.output, "syncing") as update:
            done = 0

            def advance(_chat: object, count: int) -> None:
                nonlocal done
                done += count
                update(done, None)

            archive = ArchiveSync(
                gateway,
                store,
                now=app_ctx.runtime.clock.now,
                options=options,
                progress=advance,
                warn=app_ctx.output.warn,
            )
            for chat, record in targets:
                results.append(await archive.sync(chat, record))
        return results
