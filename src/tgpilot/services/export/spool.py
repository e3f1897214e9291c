"""A disk spool that turns a newest-first stream of rendered entries into oldest-first.

History arrives newest first; exports are written oldest first. Each message is
rendered as soon as it is read, and its text is spooled as UTF-8 to a temporary folder
in chunk files of ``chunk_size`` entries (the entries' byte lengths, then the entries),
read back in reverse one chunk at a time — so memory stays flat whatever the chat size
(DESIGN rule 6), nothing is rendered twice, and the bytes go to the output as they are.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import orjson

CHUNK_SIZE = 1000


class ReverseSpool:
    """Append text entries, then iterate them, UTF-8 encoded, last appended first."""

    def __init__(self, chunk_size: int = CHUNK_SIZE, directory: Path | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="tgpilot-spool-", dir=directory)
        self._root = Path(self._tmp.name)
        self._chunk_size = chunk_size
        self._chunks: list[Path] = []
        self._buffer: list[bytes] = []
        self.count = 0

    def append(self, entry: bytes | str) -> None:
        """Add the next entry of the stream (text is encoded as UTF-8)."""
        self.count += 1
        self._buffer.append(entry if isinstance(entry, bytes) else entry.encode())
        if len(self._buffer) >= self._chunk_size:
            path = self._root / f"{len(self._chunks):08d}.chunk"
            lengths = orjson.dumps([len(data) for data in self._buffer])
            path.write_bytes(lengths + b"\n" + b"".join(self._buffer))
            self._chunks.append(path)
            self._buffer = []

    def reversed(self) -> Iterator[bytes]:
        """Every appended entry as UTF-8, last appended first."""
        yield from reversed(self._buffer)
        for path in reversed(self._chunks):
            lengths, _, data = path.read_bytes().partition(b"\n")
            end = len(data)
            for length in reversed(orjson.loads(lengths)):
                yield data[end - length : end]
                end -= length

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
