"""``tgpilot chats list|active|dialogs|resolve``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import CHAT_ARGUMENT_SETTINGS, JsonFlag, TitleContainsOpt, chosen_chat
from tgpilot.core.errors import EXIT_PARTIAL, UsageError
from tgpilot.core.output import atomic_write, human_time, progress_bar

if TYPE_CHECKING:
    from tgpilot.services.chats import ChatListQuery, ChatListResult

app = typer.Typer(
    help="List the account's chats and resolve chat references.", no_args_is_help=True
)

TypeOpt = Annotated[
    str | None,
    typer.Option("--type", help="Comma list of user,bot,group,supergroup,channel, or all."),
]
LimitOpt = Annotated[int, typer.Option("--limit", help="Rows to show (0 = all).")]
ScanOpt = Annotated[int, typer.Option("--scan", help="Dialogs to read (0 = all).")]
SortOpt = Annotated[str, typer.Option("--sort", help="last | unread | title.")]
FormatOpt = Annotated[str, typer.Option("--format", help="table | json | yaml | csv.")]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Write to this file (table format: chosen by the file's suffix)."),
]
TtlOpt = Annotated[float, typer.Option("--cache-ttl", help="Seconds a dialog cache stays fresh.")]
RefreshOpt = Annotated[bool, typer.Option("--refresh", help="Ignore the dialog cache.")]
ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", help="Parallel fetches of missing last messages (1-32).")
]


@app.command("list")
def list_command(
    ctx: typer.Context,
    type_: TypeOpt = None,
    limit: LimitOpt = 20,
    scan: ScanOpt = 200,
    sort: SortOpt = "last",
    fmt: FormatOpt = "table",
    out: OutOpt = None,
    cache_ttl: TtlOpt = 300.0,
    refresh: RefreshOpt = False,
    concurrency: ConcurrencyOpt = 8,
    json_flag: JsonFlag = False,
) -> None:
    """List chats, newest first (served from the dialog cache when fresh)."""
    from tgpilot.services.chats import ChatListQuery, parse_types

    query = ChatListQuery(
        types=parse_types(type_),
        limit=limit,
        scan=scan,
        sort=sort,
        cache_ttl=cache_ttl,
        refresh=refresh,
        concurrency=concurrency,
    )
    _list(ctx.obj, query, fmt, out, json_flag)


@app.command()
def active(
    ctx: typer.Context,
    limit: LimitOpt = 20,
    scan: ScanOpt = 200,
    sort: SortOpt = "last",
    fmt: FormatOpt = "table",
    out: OutOpt = None,
    concurrency: ConcurrencyOpt = 8,
    json_flag: JsonFlag = False,
) -> None:
    """Groups, supergroups and channels, fresh from Telegram."""
    from tgpilot.services.chats import ChatListQuery, parse_types

    query = ChatListQuery(
        types=parse_types("group,supergroup,channel"),
        limit=limit,
        scan=scan,
        sort=sort,
        refresh=True,
        concurrency=concurrency,
    )
    _list(ctx.obj, query, fmt, out, json_flag)


@app.command()
def dialogs(
    ctx: typer.Context,
    scan: ScanOpt = 200,
    sort: SortOpt = "last",
    fmt: FormatOpt = "table",
    out: OutOpt = None,
    concurrency: ConcurrencyOpt = 8,
    json_flag: JsonFlag = False,
) -> None:
    """Every dialog of every type, fresh from Telegram."""
    from tgpilot.services.chats import ChatListQuery, parse_types

    query = ChatListQuery(
        types=parse_types("all"),
        limit=0,
        scan=scan,
        sort=sort,
        refresh=True,
        concurrency=concurrency,
    )
    _list(ctx.obj, query, fmt, out, json_flag)


@app.command(context_settings=CHAT_ARGUMENT_SETTINGS)
def resolve(
    ctx: typer.Context,
    chat: Annotated[str | None, typer.Argument(help="Alias, link, @username or id.")] = None,
    title_contains: TitleContainsOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Show which chat a CHAT argument names (alias, link, username, id or title)."""
    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    chat = chosen_chat(chat, title_contains)

    async def go() -> object:
        async with app_ctx.open_gateway() as gateway:
            return await gateway.resolve_chat(chat, title_contains=title_contains)

    found = run_async(go())
    from tgpilot.models import Chat

    assert isinstance(found, Chat)
    if json_mode:
        app_ctx.output.emit_json(
            {
                "id": found.id,
                "raw_id": found.raw_id,
                "type": found.type.value,
                "title": found.title,
                "username": found.username,
            }
        )
    else:
        handle = f", @{found.username}" if found.username else ""
        app_ctx.output.line(f"{found.title} ({found.type.value}, id {found.id}{handle})")


def _list(
    app_ctx: AppContext, query: ChatListQuery, fmt: str, out: Path | None, json_flag: bool
) -> None:
    from tgpilot.services import chats

    json_mode = app_ctx.use_json(json_flag)
    if fmt not in chats.FORMATS:
        raise UsageError(f"--format: unknown format {fmt!r}; allowed: {', '.join(chats.FORMATS)}")
    if fmt == "table" and out is not None:
        fmt = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}.get(out.suffix.lower(), "csv")
    if json_mode and fmt == "table":
        fmt = "json"
    tz = app_ctx.config.output.tz

    async def go() -> ChatListResult:
        with progress_bar(app_ctx.output, "reading dialogs") as progress:
            return await chats.list_chats(
                query,
                cache=app_ctx.dialog_cache(),
                open_gateway=app_ctx.open_gateway,
                now=app_ctx.runtime.clock.now,
                progress=progress,
            )

    result = run_async(go())
    rows = result.dialogs
    if fmt == "table":
        text = None
    elif fmt == "json":
        from tgpilot.core.output import to_json

        text = to_json(chats.to_rows(rows, tz)) + "\n"
    elif fmt == "csv":
        text = chats.to_csv(rows, tz)
    else:
        text = chats.to_yaml(rows)
    if out is not None:
        with atomic_write(out) as handle:
            handle.write(text or "")
        app_ctx.output.info(f"saved: {out} ({len(rows)} chats)")
    elif text is None:
        _table(app_ctx, result)
    else:
        import sys

        sys.stdout.write(text)
    for failed in result.failed:
        app_ctx.output.warn(
            f"last message of {failed.chat.title} ({failed.chat.id}): {failed.error}"
        )
    if result.failed:
        raise typer.Exit(EXIT_PARTIAL)


def _table(app_ctx: AppContext, result: ChatListResult) -> None:
    tz = app_ctx.config.output.tz
    table = Table("#", "ID", "Type", "Unread", "Last message", "Title", header_style="bold")
    for n, d in enumerate(result.dialogs, 1):
        table.add_row(
            str(n),
            str(d.chat.id),
            d.chat.type.value,
            str(d.unread),
            human_time(d.last_message_at, tz),
            Text(d.chat.title),
        )
    app_ctx.output.print(table)
    source = "cache" if result.from_cache else "Telegram"
    app_ctx.output.info(f"{len(result.dialogs)} of {result.scanned} dialogs (from {source})")
