"""The ``tgpilot`` root command: global options, sub-commands, and the one error renderer.

Errors are rendered here and only here (DESIGN rule 5): a :class:`TgpilotError` becomes
``error: <message>`` plus ``hint: <hint>`` on stderr and its exit code; anything else is a
bug, shown with its traceback only under ``--verbose``.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer

from tgpilot import __version__
from tgpilot.cli import (
    analyze_cmd,
    apply_cmd,
    archive_cmd,
    ask_cmd,
    autoanswer_cmd,
    chats_cmd,
    clean_cmd,
    config_cmd,
    contacts_cmd,
    crm_cmd,
    db_cmd,
    digest_cmd,
    export_cmd,
    find_user_cmd,
    hunt_cmd,
    ideas_cmd,
    import_cmd,
    like_cmd,
    linear_backlog_cmd,
    linear_cmd,
    linear_mirror_cmd,
    llm_cmd,
    mcp_cmd,
    moderate_cmd,
    prompts_cmd,
    rag_cmd,
    rag_graph_cmd,
    react_cmd,
    run_cmd,
    search_cmd,
    send_cmd,
    session_cmd,
    stats_cmd,
    tasks_cmd,
    viral_cmd,
    voice_cmd,
)
from tgpilot.cli.context import AppContext, GlobalOptions, Runtime
from tgpilot.cli.options import CHAT_ARGUMENT_SETTINGS
from tgpilot.core.errors import EXIT_ERROR, EXIT_USAGE, TgpilotError
from tgpilot.core.output import Output

app = typer.Typer(
    name="tgpilot",
    help="Run a whole Telegram operation from one command.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(session_cmd.app, name="session")
app.add_typer(chats_cmd.app, name="chats")
app.add_typer(archive_cmd.app, name="archive")
app.add_typer(db_cmd.app, name="db")
app.add_typer(moderate_cmd.app, name="moderate")
app.add_typer(viral_cmd.app, name="viral")
app.add_typer(prompts_cmd.app, name="prompts")
app.add_typer(llm_cmd.app, name="llm")
app.add_typer(crm_cmd.app, name="crm")
app.add_typer(autoanswer_cmd.app, name="autoanswer")
app.command("run")(run_cmd.run)
app.add_typer(contacts_cmd.app, name="contacts")
app.command("export", context_settings=CHAT_ARGUMENT_SETTINGS)(export_cmd.export)
app.command("import")(import_cmd.import_export)
app.command("send", context_settings=CHAT_ARGUMENT_SETTINGS)(send_cmd.send)
app.command("react", context_settings=CHAT_ARGUMENT_SETTINGS)(react_cmd.react)
app.command("like", context_settings=CHAT_ARGUMENT_SETTINGS)(like_cmd.like)
app.command("clean", context_settings=CHAT_ARGUMENT_SETTINGS)(clean_cmd.clean)
app.command("apply")(apply_cmd.apply)
app.command("search", context_settings=CHAT_ARGUMENT_SETTINGS)(search_cmd.search)
app.command("stats", context_settings=CHAT_ARGUMENT_SETTINGS)(stats_cmd.stats)
app.command("find-user", context_settings=CHAT_ARGUMENT_SETTINGS)(find_user_cmd.find_user)
app.command("analyze", context_settings=CHAT_ARGUMENT_SETTINGS)(analyze_cmd.analyze)
app.command("digest", context_settings=CHAT_ARGUMENT_SETTINGS)(digest_cmd.digest)
app.command("hunt")(hunt_cmd.hunt)
app.command("ideas")(ideas_cmd.ideas)
app.command("tasks")(tasks_cmd.tasks)
rag_cmd.app.add_typer(rag_graph_cmd.app, name="graph")
app.add_typer(rag_cmd.app, name="rag")
app.command("ask")(ask_cmd.ask)
app.command("transcribe", context_settings=CHAT_ARGUMENT_SETTINGS)(voice_cmd.transcribe)
app.command("tts")(voice_cmd.tts)
app.add_typer(linear_cmd.app, name="linear")
linear_cmd.app.command("sync")(linear_backlog_cmd.sync)
linear_cmd.app.command("from-chats", context_settings=CHAT_ARGUMENT_SETTINGS)(
    linear_backlog_cmd.from_chats
)
linear_cmd.app.command("mirror")(linear_mirror_cmd.mirror)
app.add_typer(mcp_cmd.app, name="mcp")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tgpilot {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", help="config.yml to use.")] = None,
    env_file: Annotated[Path | None, typer.Option("--env-file", help=".env file to use.")] = None,
    account: Annotated[str, typer.Option("--account", help="Account (session) name.")] = "default",
    lock_wait: Annotated[
        float | None, typer.Option("--lock-wait", help="Seconds to wait for a busy session.")
    ] = None,
    max_flood_wait: Annotated[
        int | None,
        typer.Option("--max-flood-wait", help="Longest Telegram flood wait to sit out (s)."),
    ] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="Time zone for rendered times.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Machine output on stdout.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Run a whole Telegram operation from one command."""
    runtime = ctx.obj if isinstance(ctx.obj, Runtime) else Runtime()
    options = GlobalOptions(
        config_file=config,
        env_file=env_file,
        account=account,
        lock_wait=lock_wait,
        max_flood_wait=max_flood_wait,
        tz=tz,
        json=json_output,
        verbose=verbose,
    )
    ctx.obj = AppContext(options, runtime)


def run(argv: list[str] | None = None, *, client_factory: Any = None, clock: Any = None) -> int:
    """Run the CLI on ``argv`` and return the exit code (tests and launchers call this)."""
    args = list(sys.argv[1:] if argv is None else argv)
    runtime = Runtime(client_factory=client_factory, argv=args)
    if clock is not None:
        runtime.clock = clock
    command = typer.main.get_command(app)
    verbose = "--verbose" in args or "-v" in args
    try:
        result = command.main(args=args, prog_name="tgpilot", standalone_mode=False, obj=runtime)
    except TgpilotError as exc:
        _render(exc, verbose)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.TyperException as exc:
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            Output().error(exc.format_message())
        return int(exc.exit_code if exc.exit_code is not None else EXIT_USAGE)
    except typer.Abort:
        Output().error("aborted")
        return 130
    except KeyboardInterrupt:
        Output().error("interrupted")
        return 130
    except Exception as exc:
        out = Output()
        if verbose:
            traceback.print_exc()
        out.error(f"unexpected {type(exc).__name__}: {exc}", "rerun with --verbose and report it")
        return EXIT_ERROR
    return result if isinstance(result, int) else 0


def _render(exc: TgpilotError, verbose: bool) -> None:
    if verbose:
        traceback.print_exception(exc)
    Output().error(exc.message, exc.hint)


def main(argv: list[str] | None = None, *, client_factory: Any = None, clock: Any = None) -> None:
    """Console-script entry point: exits with the command's exit code."""
    sys.exit(run(argv, client_factory=client_factory, clock=clock))
