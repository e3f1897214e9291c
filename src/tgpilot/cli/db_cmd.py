"""``tgpilot db export-chats|upgrade``: the store's chat rows and schema."""

from __future__ import annotations

from typing import Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag
from tgpilot.core.errors import EXIT_PARTIAL

app = typer.Typer(help="The local database: chat rows and schema upgrades.", no_args_is_help=True)


@app.command("export-chats")
def export_chats(
    ctx: typer.Context,
    scan: Annotated[int, typer.Option("--scan", help="Dialogs to read (0 = all).")] = 0,
    json_flag: JsonFlag = False,
) -> None:
    """Upsert the account's dialogs into the chats table (never nulls a known value)."""
    from tgpilot.store import ChatRecord, UpsertCounts

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    if scan < 0:
        raise typer.BadParameter("must be 0 (all) or positive", param_hint="--scan")

    async def go() -> tuple[list[object], UpsertCounts, int]:
        async with app_ctx.open_store() as store, app_ctx.open_gateway() as gateway:
            dialogs = await gateway.list_dialogs(scan or None)
            failed = sum(1 for d in dialogs if d.error)
            counts = await store.upsert_chats([ChatRecord.from_dialog(d) for d in dialogs])
            return list(dialogs), counts, failed

    dialogs, counts, failed = run_async(go())
    out = app_ctx.output
    summary = f"{counts.describe()}, failed {failed}"
    if json_mode:
        out.emit_json(
            {
                "inserted": counts.inserted,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "failed": failed,
            }
        )
    else:
        from tgpilot.models import Dialog

        for dialog in dialogs:
            assert isinstance(dialog, Dialog)
            out.line(f"[{dialog.chat.type.value}] {dialog.chat.title} (id {dialog.chat.id})")
        out.info(summary)
    if failed:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
def upgrade(ctx: typer.Context, json_flag: JsonFlag = False) -> None:
    """Migrate the database to the newest schema."""
    from tgpilot.store import upgrade_database

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    config = app_ctx.config
    config.paths_resolved.ensure_private_dirs()
    before, after = run_async(upgrade_database(config.store.url.get_secret_value()))
    if json_mode:
        app_ctx.output.emit_json({"from": before, "to": after, "store": config.store.masked_url})
    elif before == after:
        app_ctx.output.line(f"{config.store.masked_url}: already at {after}")
    else:
        app_ctx.output.line(f"{config.store.masked_url}: upgraded {before or 'empty'} → {after}")
