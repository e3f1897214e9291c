"""``tgpilot send TARGET (TEXT | --file F | -)``: one message, applied at once and audited."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag, chat_argument
from tgpilot.core.errors import UsageError

if TYPE_CHECKING:
    from tgpilot.services.send import Outgoing, SendResult


def send(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="Alias, link, @username or id.")],
    text: Annotated[
        str | None, typer.Argument(help="The message; - reads it from stdin.", show_default=False)
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Read the message from a file.")
    ] = None,
    reply_to: Annotated[
        str | None, typer.Option("--reply-to", help="Reply to this message id or link.")
    ] = None,
    silent: Annotated[bool, typer.Option("--silent", help="Send without a notification.")] = False,
    no_preview: Annotated[bool, typer.Option("--no-preview", help="No link preview.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; send nothing.")
    ] = False,
    json_flag: JsonFlag = False,
) -> None:
    """Send one message to any chat (audited; --dry-run sends nothing)."""
    from tgpilot.services.send import DRY_RUN_CHARS, Outgoing

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    chat = chat_argument(target) or ""
    outgoing = Outgoing(
        text=_read_text(text, file),
        reply_to=_reply_id(reply_to),
        silent=silent,
        link_preview=not no_preview,
    )
    result = run_async(_run(app_ctx, chat, outgoing, dry_run))
    out = app_ctx.output
    if json_mode:
        out.emit_json(result.to_json())
    elif result.dry_run:
        reply = f", replying to #{outgoing.reply_to}" if outgoing.reply_to else ""
        out.line(f"would send to {result.chat.title} ({result.chat.id}){reply}:")
        out.line(
            outgoing.text[:DRY_RUN_CHARS] + ("…" if len(outgoing.text) > DRY_RUN_CHARS else "")
        )
        out.info("dry run: nothing was sent")
    else:
        out.line(f"sent #{result.message_id} to {result.chat.title}")


def _read_text(text: str | None, file: Path | None) -> str:
    if (text is None) == (file is None):
        raise UsageError("give the message as TEXT, - (stdin) or --file F")
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--file: cannot read {file}: {exc.strerror}") from None
    if text == "-":
        return sys.stdin.read()
    assert text is not None
    return text


def _reply_id(value: str | None) -> int | None:
    from tgpilot.gateways.telegram.links import parse_message_refs

    if value is None:
        return None
    refs = parse_message_refs([value])
    if len(refs.ids) != 1 or refs.warnings:
        raise UsageError(f"--reply-to: not a message id or link: {value!r}")
    return refs.ids[0]


async def _run(app_ctx: AppContext, chat: str, outgoing: Outgoing, dry_run: bool) -> SendResult:
    from tgpilot.core.audit import AuditLog
    from tgpilot.services.send import send_text

    config = app_ctx.config
    async with app_ctx.open_gateway() as gateway:
        resolved = await gateway.resolve_chat(chat)
        return await send_text(
            gateway,
            resolved,
            outgoing,
            dry_run=dry_run,
            audit=AuditLog(config.paths_resolved.audit_log, config.account),
            command=app_ctx.command_line,
            now=app_ctx.runtime.clock.now,
        )
