"""Downloading a message's media file, atomically, without re-reading history.

The downloader remembers the Telethon messages of the latest history pages, so an
export that downloads while it reads costs no extra request per file; a message it
no longer holds is fetched by id (``messages.getMessages``).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

from tgpilot.core.errors import TelegramError
from tgpilot.gateways.telegram.client import PolicyClient
from tgpilot.models import Message

RECENT_LIMIT = 500


class MediaDownloader:
    """Fetches media files of messages seen recently (or by id)."""

    def __init__(self, client: PolicyClient) -> None:
        self._client = client
        self._recent: OrderedDict[tuple[int, int], Any] = OrderedDict()

    def remember(self, raw: Any, message: Message) -> None:
        """Keep a message's Telethon object while it is among the latest seen."""
        if message.media_type is None:
            return
        self._recent[(message.chat_id, message.id)] = raw
        while len(self._recent) > RECENT_LIMIT:
            self._recent.popitem(last=False)

    async def download(self, message: Message, path: Path) -> int:
        """Write the media of ``message`` to ``path`` (via a partial file); returns its size."""
        raw = self._recent.pop((message.chat_id, message.id), None)
        if raw is None:
            peer = await self._client.get_input_entity(message.chat_id)
            raw = await self._client.get_messages(peer, ids=message.id)
        if raw is None or getattr(raw, "media", None) is None:
            raise TelegramError("MESSAGE_MEDIA_MISSING", "messages.getMessages")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.part")
        try:
            written = await self._client.download_media(raw, file=str(partial))
            if written is None:
                raise TelegramError("MEDIA_EMPTY", "upload.getFile")
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return path.stat().st_size
