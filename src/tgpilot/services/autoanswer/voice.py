"""Voice messages for the auto-responder (``autoanswer.voice``, spec ai.md §4.8, §4.11).

With ``voice`` on and a usable speech provider, an incoming voice, audio or round-video
message is downloaded and transcribed (the transcript is stored with the message) and
answered as if its text were the transcript; the request shows it, in the history too,
as ``[voice message] …``. Without a provider the responder stays silent on voice and
says once why (:func:`voice_transcriber` gives the reason). A transcription that fails
is logged and counted, and that message is left unanswered.
"""

from __future__ import annotations

from tgpilot.core.clock import Clock
from tgpilot.core.config.settings import Config
from tgpilot.core.errors import ConfigError
from tgpilot.gateways.llm.speech import SpeechClient, resolve_speech
from tgpilot.models import Message
from tgpilot.services.transcription import MessageTranscriber, VoiceSource
from tgpilot.store import Store
from tgpilot.store.transcripts import SPOKEN_MEDIA, TranscriptRepository


def voice_transcriber(
    config: Config, source: VoiceSource, store: Store, clock: Clock
) -> tuple[MessageTranscriber | None, str | None]:
    """The responder's transcriber, or None and why voice replies are unavailable."""
    if not config.autoanswer.voice:
        return None, None
    try:
        target = resolve_speech(config, "transcription")
    except ConfigError as exc:
        return None, exc.message
    transcriber = MessageTranscriber(
        source,
        SpeechClient(target, clock=clock),
        max_bytes=target.max_upload_bytes,
        clock=clock,
        transcripts=TranscriptRepository(store),
        language=config.speech.language,
    )
    return transcriber, None


def is_spoken(message: Message) -> bool:
    """A voice, audio or round-video message."""
    return message.media_type in SPOKEN_MEDIA
