"""Where command output goes: machine output on stdout, human messages on stderr.

One :class:`Output` per command invocation. With ``--json`` stdout carries exactly one
JSON document; tables, notices and warnings never mix into it. Colours only on a
terminal (Rich decides), so piped output has no ANSI codes.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO, Any, TextIO, cast

import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class Output:
    """Renders results and messages for one command."""

    def __init__(self, *, json_mode: bool = False, verbose: bool = False) -> None:
        self.json_mode = json_mode
        self.verbose = verbose
        self.out = Console(file=sys.stdout, highlight=False, soft_wrap=True)
        self.err = Console(file=sys.stderr, highlight=False, soft_wrap=True)

    def emit_json(self, data: Any) -> None:
        """Write one JSON document to stdout."""
        sys.stdout.write(to_json(data) + "\n")
        sys.stdout.flush()

    def print(self, *objects: Any) -> None:
        """Human output on stdout (tables, reports)."""
        self.out.print(*objects)

    def line(self, text: str) -> None:
        """A plain line on stdout, no markup interpretation."""
        self.out.print(text, markup=False, highlight=False)

    def info(self, message: str) -> None:
        """A human message on stderr."""
        self.err.print(message, markup=False, highlight=False)

    def warn(self, message: str) -> None:
        """A warning on stderr."""
        self.err.print(f"warning: {message}", style="yellow", markup=False, highlight=False)

    def error(self, message: str, hint: str | None = None) -> None:
        """The one rendering of an error: ``error: …`` and optional ``hint: …`` on stderr."""
        self.err.print(f"error: {message}", style="bold red", markup=False, highlight=False)
        if hint:
            self.err.print(f"hint: {hint}", markup=False, highlight=False)


def to_json(data: Any) -> str:
    """JSON text for machine output (UTF-8, dataclasses and datetimes supported)."""
    return orjson.dumps(
        data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z
    ).decode()


def human_time(value: datetime | None, tz: tzinfo) -> str:
    """``YYYY-MM-DD HH:MM`` in the output zone; empty when unknown."""
    if value is None:
        return ""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def iso_time(value: datetime, tz: tzinfo = UTC) -> str:
    """ISO 8601 in the output zone; UTC is written with ``Z``."""
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@contextmanager
def _atomic_file(path: Path, mode: int, open_mode: str, encoding: str | None) -> Iterator[IO[Any]]:
    """A temporary file in ``path``'s folder, renamed onto ``path`` when the block ends
    without an error; on any error the target is left as it was. Folders are created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        newline = "" if encoding is not None else None
        with os.fdopen(fd, open_mode, encoding=encoding, newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_write(path: Path, *, mode: int = 0o644, encoding: str = "utf-8") -> Iterator[TextIO]:
    """Write a text file via a temporary file in the same folder, renamed into place.

    Folders are created; on any error the target is left as it was.
    """
    with _atomic_file(path, mode, "w", encoding) as handle:
        yield cast(TextIO, handle)


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` the way :func:`atomic_write` writes text."""
    with _atomic_file(path, mode, "wb", None) as handle:
        handle.write(data)


@contextmanager
def progress_bar(output: Output, description: str) -> Iterator[Callable[[int, int | None], None]]:
    """A Rich progress bar on stderr for long work; yields ``update(done, total)``.

    Drawn only on a terminal and never in ``--json`` mode, so piped output stays clean.
    """
    enabled = output.err.is_terminal and not output.json_mode
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=output.err,
        transient=True,
        disable=not enabled,
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield update
