"""A disk spool that turns a newest-first message stream into an oldest-first one.

History arrives newest first; exports are written oldest first. The spool writes the
stream to a temporary folder in chunk files of ``chunk_size`` messages and reads them
back in reverse, one chunk in memory at a time, so memory stays flat whatever the
chat size (DESIGN rule 6).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from tgpilot.models import Message, Reaction, Sender

CHUNK_SIZE = 1000


def message_to_dict(message: Message) -> dict[str, Any]:
    """A message as plain JSON-able data (dates as ISO strings)."""
    data = asdict(message)
    for key in ("date", "edit_date"):
        if data[key] is not None:
            data[key] = data[key].isoformat()
    return data


def message_from_dict(data: dict[str, Any]) -> Message:
    """The inverse of :func:`message_to_dict`."""
    values = dict(data)
    values["date"] = datetime.fromisoformat(values["date"])
    if values["edit_date"] is not None:
        values["edit_date"] = datetime.fromisoformat(values["edit_date"])
    if values["sender"] is not None:
        values["sender"] = Sender(**values["sender"])
    values["reactions"] = tuple(Reaction(**r) for r in values["reactions"])
    return Message(**values)


def _decode(line: bytes) -> tuple[Message, str | None]:
    data = orjson.loads(line)
    return message_from_dict(data["m"]), data["n"]


class ReverseSpool:
    """Append messages (each with an optional note, e.g. its media path), then iterate
    them in reverse order of appending."""

    def __init__(self, chunk_size: int = CHUNK_SIZE, directory: Path | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="tgpilot-spool-", dir=directory)
        self._root = Path(self._tmp.name)
        self._chunk_size = chunk_size
        self._chunks: list[Path] = []
        self._buffer: list[bytes] = []
        self.count = 0
        self.first: Message | None = None
        self.last: Message | None = None

    def append(self, message: Message, note: str | None = None) -> None:
        """Add the next message of the stream."""
        if self.first is None:
            self.first = message
        self.last = message
        self.count += 1
        self._buffer.append(orjson.dumps({"m": message_to_dict(message), "n": note}))
        if len(self._buffer) >= self._chunk_size:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        path = self._root / f"{len(self._chunks):08d}.jsonl"
        path.write_bytes(b"\n".join(self._buffer) + b"\n")
        self._chunks.append(path)
        self._buffer = []

    def reversed(self) -> Iterator[tuple[Message, str | None]]:
        """Every appended message with its note, last appended first."""
        for entry in reversed(self._buffer):
            yield _decode(entry)
        for path in reversed(self._chunks):
            for line in reversed(path.read_bytes().splitlines()):
                yield _decode(line)

    def close(self) -> None:
        self._tmp.cleanup()

    def __enter__(self) -> ReverseSpool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
