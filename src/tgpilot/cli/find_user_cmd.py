"""``tgpilot find-user CHAT NAME``: recent senders whose name or username contains NAME.

Table ``User ID | Username | Name | Messages | Last seen``, most messages first; none →
``No users matching "NAME" among N senders`` (exit 0). ``--json``: a list of
``{user_id, username, name, messages, last_seen}``. Spec §3.4.

``--members`` lists the chat's members Telegram finds for NAME (server-side search,
which matches from the start of a word) instead of the window's senders, merged with
their messages in the window (0 and no date for members who did not write); same
columns and JSON. None → ``No users matching "NAME" among N members``. Needs the live
account: ``--members --archive`` is a usage error; a broadcast channel where the account
is not an admin fails with ``CHAT_ADMIN_REQUIRED`` (exit 1).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import ArchiveFlag, JsonFlag, TitleContainsOpt, chosen_chat
from tgpilot.core.errors import UsageError
from tgpilot.core.output import human_time, iso_time

if TYPE_CHECKING:
    from tgpilot.services.find_user import FindUserResult, UserMatch
    from tgpilot.services.search import Window


def find_user(
    ctx: typer.Context,
    chat: Annotated[str | None, typer.Argument(help="Alias, link, @username or id.")] = None,
    name: Annotated[
        str | None, typer.Argument(help="Part of a name or username.", show_default=False)
    ] = None,
    title_contains: TitleContainsOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", help="Newest N messages to read (0 = all).")
    ] = 1000,
    archive: ArchiveFlag = False,
    members: Annotated[
        bool,
        typer.Option(
            "--members",
            help="Search the chat's members on Telegram (from the start of a word) "
            "instead of recent senders; messages still counted over --limit.",
        ),
    ] = False,
    json_flag: JsonFlag = False,
) -> None:
    """Find who wrote in a chat (or, with --members, who is in it) by a piece of their
    name or username."""
    from tgpilot.services.find_user import needle_of
    from tgpilot.services.search import Window

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if title_contains is not None and name is None:
        chat, name = None, chat
    chat = chosen_chat(chat, title_contains)
    if name is None:
        raise UsageError("missing NAME", hint="e.g. tgpilot find-user team alice")
    needle_of(name)
    if members and archive:
        raise UsageError("--members asks Telegram: it cannot go with --archive")
    window = Window(limit=limit)
    result = run_async(_run(app_ctx, chat, title_contains, name, window, archive, members))
    tz = app_ctx.config.output.tz
    if json_mode:
        app_ctx.output.emit_json([user_row(u, tz) for u in result.users])
        if not result.users:
            app_ctx.output.info(result.describe_none())
        return
    if not result.users:
        app_ctx.output.print(Text(result.describe_none()))
        return
    table = Table("User ID", "Username", "Name", "Messages", "Last seen", header_style="bold")
    table.columns[3].justify = "right"
    for u in result.users:
        table.add_row(
            str(u.user_id),
            Text(f"@{u.username}" if u.username else ""),
            Text(u.name),
            str(u.messages),
            human_time(u.last_seen, tz),
        )
    app_ctx.output.print(table)
    app_ctx.output.info(result.describe_found())


async def _run(
    app_ctx: AppContext,
    chat: str | None,
    title_contains: str | None,
    name: str,
    window: Window,
    archive: bool,
    members: bool,
) -> FindUserResult:
    from tgpilot.core.output import progress_bar
    from tgpilot.services.find_user import find_users, needle_of

    if members:
        async with app_ctx.open_gateway() as gateway:
            resolved = await gateway.resolve_chat(chat, title_contains=title_contains)
            found = await gateway.participants(resolved, needle_of(name))
            with progress_bar(app_ctx.output, f"reading {resolved.title}") as progress:
                return await find_users(
                    resolved,
                    gateway,
                    name,
                    window,
                    progress=progress,
                    members=found.members,
                    member_count=found.total,
                )
    async with app_ctx.open_chat_source(chat, title_contains, archive=archive) as source:
        resolved = source.chat
        with progress_bar(app_ctx.output, f"reading {resolved.title}") as progress:
            return await find_users(resolved, source.messages, name, window, progress=progress)


def user_row(user: UserMatch, tz: tzinfo) -> dict[str, Any]:
    """One matching sender as its JSON object."""
    return {
        "user_id": user.user_id,
        "username": user.username,
        "name": user.name,
        "messages": user.messages,
        "last_seen": iso_time(user.last_seen, tz) if user.last_seen else None,
    }
