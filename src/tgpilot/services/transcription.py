"""Transcribing Telegram voice, audio and round-video messages (spec ai.md §4.11).

:class:`MessageTranscriber` refuses what cannot be sent from the message's metadata
alone (not spoken, over ``speech.max_upload_mb``, an audio type the providers do not
take) before a byte is downloaded, then downloads the file into a temporary folder,
sends it to the speech provider and keeps the transcript with the message
(:class:`~tgpilot.store.transcripts.TranscriptRepository`). :func:`transcribe_chat` does
that for every archived spoken message of a chat that has no transcript yet
(``transcribe CHAT --all``), counting what it skipped and what failed. The CLI and the
auto-responder (``autoanswer.voice``) both go through here.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from tgpilot.core.clock import Clock
from tgpilot.core.errors import TgpilotError, UsageError
from tgpilot.gateways.llm.speech import AUDIO_EXTENSIONS, Transcript
from tgpilot.models import Chat, Message
from tgpilot.services.export.media import media_file_name
from tgpilot.store.transcripts import SPOKEN_MEDIA, TranscriptRepository

LOOKUP_BATCH = 100
"""Message ids per ``get_messages`` call (Telegram's page size)."""

RefusalKind = Literal["not_spoken", "oversized", "unsupported"]


class Speech(Protocol):
    """What transcribes a file (:class:`tgpilot.gateways.llm.speech.SpeechClient`)."""

    async def transcribe(self, path: Path, *, language: str | None = None) -> Transcript: ...


class VoiceSource(Protocol):
    """The Telegram calls needed (:class:`~tgpilot.gateways.telegram.gateway.TelegramGateway`)."""

    async def get_messages(self, chat: Chat, ids: Sequence[int]) -> list[Message | None]: ...

    async def download_media(self, message: Message, path: Path) -> int: ...


@dataclass(frozen=True)
class Refusal:
    """Why a message is not sent for transcription."""

    kind: RefusalKind
    reason: str
    hint: str | None = None


def refusal(message: Message, max_bytes: int) -> Refusal | None:
    """Why ``message`` cannot be transcribed, judged from its metadata, or None."""
    if message.media_type not in SPOKEN_MEDIA:
        kind = message.media_type or "text"
        return Refusal("not_spoken", f"is {kind}, not a voice or audio message")
    if message.media_size is not None and message.media_size > max_bytes:
        return Refusal(
            "oversized",
            f"{message.media_size} bytes is over the upload limit of {max_bytes} bytes",
            "raise speech.max_upload_mb",
        )
    file_name = media_file_name(message)
    extension = Path(file_name).suffix.lower().lstrip(".")
    if extension not in AUDIO_EXTENSIONS:
        shown = f".{extension}" if extension else "(none)"
        return Refusal(
            "unsupported",
            f"unsupported audio type {shown} ({file_name})",
            "accepted: " + ", ".join(AUDIO_EXTENSIONS),
        )
    return None


class MessageTranscriber:
    """Downloads, transcribes and stores one spoken message at a time."""

    def __init__(
        self,
        source: VoiceSource,
        speech: Speech,
        *,
        max_bytes: int,
        clock: Clock,
        transcripts: TranscriptRepository | None = None,
        language: str | None = None,
    ) -> None:
        self._source = source
        self._speech = speech
        self._max_bytes = max_bytes
        self._clock = clock
        self._transcripts = transcripts
        self._language = language

    def refusal(self, message: Message) -> Refusal | None:
        return refusal(message, self._max_bytes)

    async def transcribe(self, message: Message, *, language: str | None = None) -> Transcript:
        """The transcript of ``message``, stored with it (a UsageError names why a
        message is refused; provider and Telegram failures pass through)."""
        refused = self.refusal(message)
        if refused is not None:
            raise UsageError(f"message {message.id}: {refused.reason}", hint=refused.hint)
        with tempfile.TemporaryDirectory(prefix="tgpilot-voice-") as folder:
            path = Path(folder) / media_file_name(message)
            await self._source.download_media(message, path)
            transcript = await self._speech.transcribe(path, language=language or self._language)
        if self._transcripts is not None:
            await self._transcripts.save(
                message.chat_id,
                message.id,
                text=transcript.text,
                provider=transcript.provider,
                model=transcript.model,
                language=transcript.language,
                now=self._clock.now(),
            )
        return transcript


@dataclass
class ChatTranscription:
    """What ``transcribe CHAT --all`` did."""

    chat: Chat
    candidates: int = 0
    transcribed: int = 0
    skipped: dict[str, int] = field(
        default_factory=lambda: {"oversized": 0, "unsupported": 0, "gone": 0}
    )
    failures: list[tuple[int, str]] = field(default_factory=list)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "chat": self.chat.title,
            "chat_id": self.chat.id,
            "candidates": self.candidates,
            "transcribed": self.transcribed,
            "skipped": dict(self.skipped),
            "failed": len(self.failures),
            "failures": [{"message_id": i, "error": e} for i, e in self.failures],
        }


async def transcribe_chat(
    transcriber: MessageTranscriber,
    source: VoiceSource,
    transcripts: TranscriptRepository,
    chat: Chat,
    *,
    since: datetime | None = None,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ChatTranscription:
    """Transcribe every archived voice, audio and round-video message of ``chat`` (dated
    ``since`` or later, the newest ``limit``) that has no transcript yet. Refused and
    vanished messages are counted as skipped; a message whose download or
    transcription fails is recorded and the rest go on."""
    pending = await transcripts.untranscribed(chat.id, since=since, limit=limit)
    result = ChatTranscription(chat, candidates=len(pending))
    done = 0
    if progress is not None:
        progress(0, len(pending))
    for start in range(0, len(pending), LOOKUP_BATCH):
        ids = [p.message_id for p in pending[start : start + LOOKUP_BATCH]]
        found = await source.get_messages(chat, ids)
        for message_id, message in zip(ids, found, strict=True):
            await _one(transcriber, result, message_id, message)
            done += 1
            if progress is not None:
                progress(done, len(pending))
    return result


async def _one(
    transcriber: MessageTranscriber,
    result: ChatTranscription,
    message_id: int,
    message: Message | None,
) -> None:
    if message is None:
        result.skipped["gone"] += 1
        return
    refused = transcriber.refusal(message)
    if refused is not None:
        kind = "gone" if refused.kind == "not_spoken" else refused.kind
        result.skipped[kind] += 1
        return
    try:
        await transcriber.transcribe(message)
    except TgpilotError as exc:
        result.failures.append((message_id, exc.message))
        return
    result.transcribed += 1
