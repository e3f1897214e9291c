"""Which media are downloaded, where the files go, and how the outcome is counted.

Spec telegram-cli §3.2 "Media": ``--media none|all|<kinds>``, ``--max-media-size``
(default 50 MB), files named ``<msg id>_<safe original name or kind>.<ext>``; an
existing file of the same size is kept; every skip is counted by its reason; a failed
download is counted (exit 3) and the message is kept without its file.

``export`` and ``archive sync --media`` share all of it: :class:`MediaFetcher` is the
one place that decides, downloads and counts.
"""

from __future__ import annotations

import mimetypes
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import NamedTuple

from tgpilot.core.errors import TgpilotError, UsageError
from tgpilot.core.names import safe_name
from tgpilot.models import Message

MEDIA_KINDS = ("photo", "video", "round", "voice", "audio", "animation", "sticker", "document")
DEFAULT_MAX_SIZE = 50 * 1000 * 1000
_KIND_EXTENSIONS = {"photo": ".jpg", "voice": ".ogg", "round": ".mp4", "sticker": ".webp"}
NOT_IN_ARCHIVE = "not in the archive"
"""The skip reason of a selected file that nothing can download (``--archive``)."""

Downloader = Callable[[Message, Path], Awaitable[int]]
"""Saves a message's media file at a path (atomically); returns its size in bytes."""


@dataclass(frozen=True)
class MediaSelection:
    """What ``--media`` and ``--max-media-size`` asked for."""

    kinds: frozenset[str] = frozenset()
    max_size: int = DEFAULT_MAX_SIZE

    @classmethod
    def parse(cls, text: str, max_size: int = DEFAULT_MAX_SIZE) -> MediaSelection:
        """``none``, ``all`` or a comma list of kinds (unknown kind → exit 2)."""
        names = [p.strip().lower() for p in text.split(",") if p.strip()]
        if names in ([], ["none"]):
            return cls(frozenset(), max_size)
        if names == ["all"]:
            return cls(frozenset(MEDIA_KINDS), max_size)
        wrong = [n for n in names if n not in MEDIA_KINDS]
        if wrong:
            raise UsageError(
                f"--media: unknown kind {', '.join(wrong)}; "
                f"allowed: none, all, {', '.join(MEDIA_KINDS)}"
            )
        return cls(frozenset(names), max_size)

    @property
    def enabled(self) -> bool:
        return bool(self.kinds)

    def skip_reason(self, message: Message) -> str | None:
        """None if the message's media should be downloaded, else why not."""
        kind = message.media_type
        if kind not in self.kinds:
            return "type not selected"
        if message.media_size is not None and message.media_size > self.max_size:
            return "too large"
        return None


def media_file_name(message: Message) -> str:
    """``<msg id>_<safe original name or kind>.<ext>``."""
    kind = message.media_type or "file"
    if message.media_name:
        original = PurePath(message.media_name)
        stem = safe_name(original.stem, 80, fallback=kind)
        suffix = safe_name(original.suffix.lstrip("."), 10, fallback="")
        extension = f".{suffix}" if suffix else _extension(message)
    else:
        stem, extension = kind, _extension(message)
    return f"{message.id}_{stem}{extension}"


def _extension(message: Message) -> str:
    if message.media_type in _KIND_EXTENSIONS:
        return _KIND_EXTENSIONS[message.media_type]
    guessed = mimetypes.guess_extension(message.media_mime or "") if message.media_mime else None
    return guessed or ".bin"


@dataclass
class MediaTally:
    """How the media of an export ended."""

    downloaded: int = 0
    kept: int = 0
    failed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def describe(self) -> str:
        skips = sum(self.skipped.values())
        text = f"media: {self.downloaded} downloaded, {skips} skipped, {self.failed} failed"
        if self.kept:
            text += f", {self.kept} already present"
        return text

    def skip_summary(self) -> str:
        return ", ".join(f"{reason} {n}" for reason, n in sorted(self.skipped.items()))


def existing_same_size(path: Path, size: int | None) -> bool:
    """An earlier download of this file is complete and may be kept."""
    return size is not None and path.is_file() and path.stat().st_size == size


class FetchedFile(NamedTuple):
    """A media file on disk: where, and how many bytes."""

    path: Path
    size: int


class MediaFetcher:
    """Downloads the selected media of messages into one folder, counting every outcome
    in :attr:`tally` (skips by reason; a file already there with the message's size is
    kept; a failed download is counted and ``warn``-ed, never raised)."""

    def __init__(
        self,
        selection: MediaSelection,
        folder: Path,
        download: Downloader | None,
        *,
        tally: MediaTally | None = None,
        warn: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.selection = selection
        self.folder = folder
        self.tally = tally if tally is not None else MediaTally()
        self._download = download
        self._warn = warn

    async def fetch(self, message: Message) -> FetchedFile | None:
        """The file of ``message``'s media in the folder (downloaded unless already
        there), or None when it is skipped or its download failed."""
        tally = self.tally
        reason = self.selection.skip_reason(message)
        if reason is None and self._download is None:
            reason = NOT_IN_ARCHIVE
        if reason is not None:
            tally.skipped[reason] += 1
            return None
        assert self._download is not None
        path = self.folder / media_file_name(message)
        if existing_same_size(path, message.media_size):
            tally.kept += 1
            assert message.media_size is not None
            return FetchedFile(path, message.media_size)
        try:
            size = await self._download(message, path)
        except TgpilotError as exc:
            tally.failed += 1
            self._warn(f"media of #{message.id} not downloaded: {exc.message}")
            return None
        tally.downloaded += 1
        return FetchedFile(path, size)
