"""Writing and printing the reports of AI commands (spec ai.md §3 "Privacy and
files", §5): ``ideas``, ``tasks`` and ``contacts analyze``, and the raw answers of
``analyze`` and ``crm extract``.

A report over several chats is written to ``--out`` (default ``<data dir>/reports``)
as ``<command>_<YYYYMMDD-HHMMSS>.md`` and ``.json`` (UTC), then printed — its
Markdown, or its JSON with ``--json`` — by :func:`publish`. Answers the model gave
that could not be used are kept beside a report as ``<base>.raw.txt``
(:func:`save_raw`) and named in one warning. Exit 3 when the model's side had a
problem or chats were skipped; a run with nothing to report says so
(:func:`publish_nothing`, exit 0, no files).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tgpilot.cli.context import AppContext
from tgpilot.core.errors import EXIT_PARTIAL

if TYPE_CHECKING:
    from datetime import datetime

    from tgpilot.cli.llm_support import ModelJob
    from tgpilot.services.ai.review import ModelReview, RunInfo, SkippedChat
    from tgpilot.services.sources import MessageWindow, SourceSpec

RAW_SUFFIX = ".raw.txt"
NO_MESSAGES = "no messages in the selected period"

OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Folder for the report files (default: <data dir>/reports)."),
]
DaysOpt = Annotated[int, typer.Option("--days", min=0, help="The last N days (0 = no cutoff).")]
TextsPerChatOpt = Annotated[
    int, typer.Option("--limit", min=0, help="Newest N texts per chat (0 = all).")
]


def window_period(app_ctx: AppContext, window: MessageWindow, now: datetime) -> str:
    """The window as the reports name it, in ``--tz``."""
    from tgpilot.services.ai.digest.activity import zone_name
    from tgpilot.services.ai.digest.report import period_text

    tz = app_ctx.config.output.tz
    return period_text(window.since, window.until or now, tz, zone_name(tz))


def run_info(
    review: ModelReview[Any] | None,
    job: ModelJob | None,
    spec: SourceSpec,
    period: str,
    now: datetime,
    skipped: tuple[SkippedChat, ...] = (),
) -> RunInfo:
    """The report's run info: local, or the model's review through the job's prompt."""
    from tgpilot.services.ai.review import RunInfo

    if review is None or job is None:
        return RunInfo(generated_at=now, source=spec.label, period=period, skipped=skipped)
    return RunInfo.reviewed(
        review,
        job.prompts.single,
        generated_at=now,
        source=spec.label,
        period=period,
        skipped=skipped,
    )


def save_raw(path: Path, raw: str | None) -> Path | None:
    """The model's unusable answers written to ``path`` (None when there are none)."""
    from tgpilot.core.output import atomic_write

    if raw is None:
        return None
    with atomic_write(path) as handle:
        handle.write(raw)
    return path


def problem_line(problem: str, raw: Path | None) -> str:
    """``<problem> (answer saved to <raw>)``: what went wrong with the model's side."""
    saved = f" (answer saved to {raw})" if raw is not None else ""
    return f"{problem}{saved}"


def publish(
    app_ctx: AppContext,
    *,
    kind: str,
    now: datetime,
    out_dir: Path,
    run: RunInfo,
    review: ModelReview[Any] | None,
    markdown: str,
    document: dict[str, Any],
    json_mode: bool,
) -> None:
    """Write the report as ``<kind>_<stamp>.md`` and ``.json`` (the unusable answers as
    ``.raw.txt``), print it (or its JSON with the files), and exit 3 when the model's
    side had a problem or chats were skipped."""
    from tgpilot.core.output import to_json
    from tgpilot.services.ai.review import report_base, write_report_files

    out = app_ctx.output
    base = report_base(kind, now)
    raw = save_raw(out_dir / f"{base}{RAW_SUFFIX}", review.raw if review is not None else None)
    if run.problem is not None:
        out.warn(f"{problem_line(run.problem, raw)}; the report keeps the local results")
    files = write_report_files(out_dir, base, {"md": markdown, "json": to_json(document) + "\n"})
    if json_mode:
        out.emit_json(
            {
                **document,
                "files": {ext: str(path) for ext, path in files.items()},
                "raw": str(raw) if raw is not None else None,
            }
        )
    else:
        out.line(markdown.rstrip("\n"))
        for ext, path in files.items():
            out.info(f"{ext:<4} {path}")
    if run.partial:
        raise typer.Exit(EXIT_PARTIAL)


def publish_nothing(
    app_ctx: AppContext,
    document: dict[str, Any],
    json_mode: bool,
    message: str = NO_MESSAGES,
    *,
    partial: bool = False,
) -> None:
    """Say there was nothing to report (no files); exit 3 when ``partial`` (chats were
    skipped), else 0."""
    if json_mode:
        app_ctx.output.emit_json({**document, "message": message, "files": {}})
    else:
        app_ctx.output.line(message)
    if partial:
        raise typer.Exit(EXIT_PARTIAL)


def write_out_file(path: Path, data: bytes) -> None:
    """Write a command's binary ``--out`` file atomically (an image, audio); a folder or
    file that cannot be written is a usage error (exit 2) naming the path."""
    from tgpilot.core.errors import UsageError
    from tgpilot.core.output import atomic_write_bytes

    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise UsageError(f"--out: cannot write {path}: {exc.strerror or exc}") from exc
