"""A disk spool that turns a newest-first stream of rendered entries into oldest-first.

History arrives newest first; exports are written oldest first. Each message is
rendered as soon as it is read and the text is spooled to a temporary folder in chunk
files of ``chunk_size`` entries, read back in reverse one chunk at a time — so memory
stays flat whatever the chat size (DESIGN rule 6) and nothing is rendered twice.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import orjson

CHUNK_SIZE = 1000


class ReverseSpool:
    """Append text entries, then iterate them in reverse order of appending."""

    def __init__(self, chunk_size: int = CHUNK_SIZE, directory: Path | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="tgpilot-spool-", dir=directory)
        self._root = Path(self._tmp.name)
        self._chunk_size = chunk_size
        self._chunks: list[Path] = []
        self._buffer: list[str] = []
        self.count = 0

    def append(self, entry: str) -> None:
        """Add the next entry of the stream."""
        self.count += 1
        self._buffer.append(entry)
        if len(self._buffer) >= self._chunk_size:
            path = self._root / f"{len(self._chunks):08d}.json"
            path.write_bytes(orjson.dumps(self._buffer))
            self._chunks.append(path)
            self._buffer = []

    def reversed(self) -> Iterator[str]:
        """Every appended entry, last appended first."""
        yield from reversed(self._buffer)
        for path in reversed(self._chunks):
            yield from reversed(orjson.loads(path.read_bytes()))

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
