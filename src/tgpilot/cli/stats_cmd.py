"""``tgpilot stats CHAT``: counts, media share, activity and top senders (spec §3.4).

Human output: a summary (messages, media count and %, unique senders, first/last date,
per day) and a table ``# | Name | Messages | Chars | Avg len`` — or ``No messages in
range`` instead of the table. ``--json``: the same figures as one object.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import (
    ArchiveFlag,
    JsonFlag,
    SinceOpt,
    TitleContainsOpt,
    UntilOpt,
    chosen_chat,
)
from tgpilot.core.errors import UsageError
from tgpilot.core.output import human_time, iso_time

if TYPE_CHECKING:
    from tgpilot.services.search import Window
    from tgpilot.services.stats import ChatStats

NO_MESSAGES = "No messages in range"


def stats(
    ctx: typer.Context,
    chat: Annotated[str | None, typer.Argument(help="Alias, link, @username or id.")] = None,
    title_contains: TitleContainsOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", help="Newest N messages to read (0 = all).")
    ] = 1000,
    top: Annotated[int, typer.Option("--top", help="Senders in the table (0 = all).")] = 10,
    since: SinceOpt = None,
    until: UntilOpt = None,
    archive: ArchiveFlag = False,
    json_flag: JsonFlag = False,
) -> None:
    """Message statistics of a chat's recent history, with the most active senders."""
    from tgpilot.core.dates import parse_when
    from tgpilot.services.search import Window

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    chat = chosen_chat(chat, title_contains)
    if top < 0:
        raise UsageError("--top must be 0 (all) or positive")
    tz = app_ctx.config.output.tz
    window = Window(
        limit=limit,
        since=parse_when(since, tz, option="--since") if since else None,
        until=parse_when(until, tz, option="--until") if until else None,
    )
    result = run_async(_run(app_ctx, chat, title_contains, window, archive))
    if json_mode:
        app_ctx.output.emit_json(stats_object(result, top, tz))
        return
    _render(app_ctx, result, top, tz)


async def _run(
    app_ctx: AppContext, chat: str | None, title_contains: str | None, window: Window, archive: bool
) -> ChatStats:
    from tgpilot.core.output import progress_bar
    from tgpilot.services.stats import chat_stats

    async with app_ctx.open_chat_source(chat, title_contains, archive=archive) as source:
        resolved = source.chat
        with progress_bar(app_ctx.output, f"reading {resolved.title}") as progress:
            return await chat_stats(resolved, source.messages, window, progress=progress)


def stats_object(result: ChatStats, top: int, tz: tzinfo) -> dict[str, Any]:
    """The figures as one JSON object (dates ISO 8601 in ``tz``, null when empty)."""
    return {
        "chat": {"id": result.chat.id, "title": result.chat.title},
        "scanned": result.scanned,
        "messages": result.messages,
        "media": result.media,
        "media_percent": result.media_percent,
        "unique_senders": result.unique_senders,
        "chars": result.chars,
        "first": iso_time(result.first, tz) if result.first else None,
        "last": iso_time(result.last, tz) if result.last else None,
        "days_spanned": round(result.days_spanned, 2),
        "per_day": result.per_day,
        "top": [
            {
                "rank": rank,
                "sender_id": s.sender_id,
                "name": s.name,
                "username": s.username,
                "messages": s.messages,
                "chars": s.chars,
                "avg_len": s.avg_len,
            }
            for rank, s in enumerate(result.top(top), 1)
        ],
    }


def _render(app_ctx: AppContext, result: ChatStats, top: int, tz: tzinfo) -> None:
    out = app_ctx.output
    for label, value in (
        ("Chat", f"{result.chat.title} ({result.chat.id})"),
        ("Messages", str(result.messages)),
        ("Media", f"{result.media} ({result.media_percent:.1f} %)"),
        ("Unique senders", str(result.unique_senders)),
        ("First", human_time(result.first, tz) or "-"),
        ("Last", human_time(result.last, tz) or "-"),
        ("Per day", f"{result.per_day:.1f}"),
    ):
        out.print(Text(f"{label}: {value}"))
    if result.empty:
        out.print(Text(NO_MESSAGES))
        return
    table = Table("#", "Name", "Messages", "Chars", "Avg len", header_style="bold")
    for column in table.columns[2:]:
        column.justify = "right"
    for rank, s in enumerate(result.top(top), 1):
        table.add_row(
            str(rank), Text(s.short_name), str(s.messages), str(s.chars), f"{s.avg_len:.1f}"
        )
    out.print(table)
