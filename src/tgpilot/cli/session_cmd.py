"""``tgpilot session login|status|logout``."""

from __future__ import annotations

import getpass
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag, YesFlag
from tgpilot.core.errors import EXIT_USAGE, UsageError

if TYPE_CHECKING:
    from tgpilot.services.session import SessionFiles

app = typer.Typer(help="Log the account in and out, and show its session.", no_args_is_help=True)


class TerminalPrompts:
    """Asks the person at the terminal; piped answers work too, EOF is a usage error."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    def _ask(self, prompt: str, *, secret: bool = False) -> str:
        if secret and sys.stdin.isatty():
            return getpass.getpass(prompt)
        sys.stderr.write(prompt)
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            raise UsageError(
                "no terminal to prompt on", hint="run `tgpilot session login` in a terminal"
            )
        return line.rstrip("\n")

    def phone(self) -> str:
        return self._ask("Phone number (international format): ")

    def code(self) -> str:
        return self._ask("Login code: ")

    def password(self) -> str:
        return self._ask("Two-step verification password: ", secret=True)

    def notice(self, message: str) -> None:
        self._ctx.output.info(message)


def _files(ctx: AppContext) -> SessionFiles:
    from tgpilot.services.session import SessionFiles

    paths = ctx.config.paths_resolved
    return SessionFiles(paths.session_file, paths.lock_file, paths.server_file)


@app.command()
def login(
    ctx: typer.Context,
    phone: Annotated[
        str | None, typer.Option("--phone", help="Phone number to log in with.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Log in again even if authorised.")
    ] = False,
    json_flag: JsonFlag = False,
) -> None:
    """Log the account in (code, then the two-step password if set)."""
    from tgpilot.services import session

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    config = app_ctx.config
    files = _files(app_ctx)
    password = config.telegram.password.get_secret_value() if config.telegram.password else None
    result = run_async(
        session.login(
            app_ctx.open_gateway,
            files,
            TerminalPrompts(app_ctx),
            phone=phone or config.telegram.phone,
            password=password,
            force=force,
        )
    )
    account = result.account
    if json_mode:
        app_ctx.output.emit_json(
            {
                "already": result.already,
                "user": {"id": account.id, "name": account.name, "username": account.username},
                "session": str(result.session_path),
            }
        )
    elif result.already:
        app_ctx.output.line(f"already logged in as {account.describe()}")
    else:
        app_ctx.output.line(f"logged in as {account.describe()}")
        app_ctx.output.line(f"session: {result.session_path}")


@app.command()
def status(
    ctx: typer.Context,
    offline: Annotated[bool, typer.Option("--offline", help="Do not connect.")] = False,
    json_flag: JsonFlag = False,
) -> None:
    """Show the session file, lock holder and server; online also the user and DC."""
    from tgpilot.gateways.telegram.server import describe, read_record, record_for
    from tgpilot.services import session

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    files = _files(app_ctx)
    record = read_record(files.server) or record_for(app_ctx.server_spec())
    server_text = describe(record)
    report = run_async(
        session.status(
            app_ctx.open_gateway,
            files,
            server_text,
            offline=offline,
        )
    )
    out = app_ctx.output
    if json_mode:
        out.emit_json(report.to_json())
    else:
        out.line(f"session:  {report.session_path} ({report.mode or 'missing'})")
        out.line(f"lock:     {report.holder.describe() if report.holder else 'free'}")
        out.line(f"server:   {report.server}")
        if not offline and report.exists:
            out.line(
                f"user:     {report.account.describe() if report.account else 'not logged in'}"
            )
            out.line(f"dc:       {report.data_center}")
    ok = report.exists if offline else report.authorised
    if not ok:
        if not json_mode:
            out.error("not logged in", "tgpilot session login")
        raise typer.Exit(EXIT_USAGE)


@app.command()
def logout(ctx: typer.Context, yes: YesFlag = False, json_flag: JsonFlag = False) -> None:
    """Log out on Telegram and delete the session file (plan first; --yes applies)."""
    from tgpilot.core.audit import AuditLog
    from tgpilot.services import session

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    files = _files(app_ctx)
    config = app_ctx.config
    audit = AuditLog(config.paths_resolved.audit_log, config.account)
    plan, applied = run_async(
        session.logout(
            app_ctx.open_gateway,
            files,
            audit,
            apply=yes,
            command=app_ctx.command_line,
            now=app_ctx.runtime.clock.now,
        )
    )
    out = app_ctx.output
    if json_mode:
        out.emit_json({"plan": [plan.describe()], "applied": applied})
    elif applied:
        out.line(f"logged out {plan.account.describe()}; deleted {plan.session_path}")
    else:
        out.line(f"plan: {plan.describe()}")
        out.info("nothing changed; rerun with --yes to apply")
