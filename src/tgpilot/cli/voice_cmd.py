"""``tgpilot transcribe`` and ``tgpilot tts``: speech in and out (spec ai.md §4.11).

``transcribe FILE|CHAT:MSG`` sends an audio file (mp3, mp4, mpeg, mpga, m4a, wav, webm,
ogg, oga, flac; oversized files are refused before upload) to the configured speech
provider — OpenAI-compatible ``/audio/transcriptions`` or Yandex SpeechKit — and prints
the text. ``CHAT:MSG`` downloads that message's voice or audio file into a temporary
folder first. ``tts TEXT --out FILE`` writes synthesised speech atomically. Without a
usable provider both exit 2 saying what to set (ai.md §5: unavailable, stated).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.ai_reports import write_out_file
from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag
from tgpilot.core.errors import UsageError

if TYPE_CHECKING:
    from tgpilot.gateways.llm.speech import SpeechTarget, Transcript

CHAT_MESSAGE = re.compile(r"^(?P<chat>.+):(?P<msg>\d+)$")
SPOKEN_MEDIA = ("voice", "audio", "round")

LanguageOpt = Annotated[
    str | None,
    typer.Option(
        "--language", help="Spoken language, e.g. en or ru-RU (default: speech.language)."
    ),
]


def transcribe(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(metavar="FILE|CHAT:MSG", help="An audio file, or a chat and message id."),
    ],
    language: LanguageOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Transcribe an audio file or a voice message (OpenAI-compatible or Yandex)."""
    from tgpilot.gateways.llm.speech import check_audio_file, max_upload_bytes, resolve_speech

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    config = app_ctx.config
    path = Path(source)
    chat_message = CHAT_MESSAGE.match(source)
    from_file = path.exists() or chat_message is None
    if from_file:
        check_audio_file(path, max_upload_bytes(config.speech.max_upload_mb))
    target = resolve_speech(config, "transcription")
    chosen_language = language or config.speech.language
    if from_file:
        transcript = run_async(_transcribe_file(app_ctx, target, path, chosen_language))
        where = str(path)
    else:
        assert chat_message is not None
        chat_text, message_id = chat_message["chat"], int(chat_message["msg"])
        transcript = run_async(
            _transcribe_message(app_ctx, target, chat_text, message_id, chosen_language)
        )
        where = f"{chat_text}:{message_id}"
    out = app_ctx.output
    if json_mode:
        out.emit_json(
            {
                "source": where,
                "text": transcript.text,
                "provider": transcript.provider,
                "model": transcript.model,
                "language": transcript.language,
                "stored": False,
            }
        )
        return
    out.line(transcript.text)


async def _transcribe_file(
    app_ctx: AppContext, target: SpeechTarget, path: Path, language: str | None
) -> Transcript:
    from tgpilot.gateways.llm.speech import SpeechClient

    client = SpeechClient(target, clock=app_ctx.runtime.clock)
    return await client.transcribe(path, language=language)


async def _transcribe_message(
    app_ctx: AppContext,
    target: SpeechTarget,
    chat_text: str,
    message_id: int,
    language: str | None,
) -> Transcript:
    from tgpilot.gateways.llm.speech import AUDIO_EXTENSIONS
    from tgpilot.services.export.media import media_file_name

    async with app_ctx.open_gateway() as gateway:
        chat = await gateway.resolve_chat(chat_text)
        found = await gateway.get_messages(chat, [message_id])
        message = found[0] if found else None
        if message is None:
            raise UsageError(f"message {message_id} not found in {chat_text}")
        if message.media_type not in SPOKEN_MEDIA:
            kind = message.media_type or "text"
            raise UsageError(
                f"message {message_id} in {chat_text} is {kind}, not a voice or audio message"
            )
        if message.media_size is not None and message.media_size > target.max_upload_bytes:
            raise UsageError(
                f"message {message_id}: {message.media_size} bytes is over the upload limit "
                f"of {target.max_upload_bytes} bytes",
                hint="raise speech.max_upload_mb",
            )
        # Everything that can be refused is refused from the metadata, before a byte of
        # the file is downloaded.
        file_name = media_file_name(message)
        extension = Path(file_name).suffix.lower().lstrip(".")
        if extension not in AUDIO_EXTENSIONS:
            raise UsageError(
                f"message {message_id} in {chat_text}: unsupported audio type "
                f"{('.' + extension) if extension else '(none)'} ({file_name})",
                hint="accepted: " + ", ".join(AUDIO_EXTENSIONS),
            )
        with tempfile.TemporaryDirectory(prefix="tgpilot-voice-") as folder:
            path = Path(folder) / file_name
            await gateway.download_media(message, path)
            return await _transcribe_file(app_ctx, target, path, language)


def tts(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What to say (SSML with --ssml).")],
    out_file: Annotated[Path, typer.Option("--out", help="The audio file to write.")],
    voice: Annotated[
        str | None, typer.Option("--voice", help="Voice (default: speech.voice).")
    ] = None,
    audio_format: Annotated[
        str | None,
        typer.Option("--format", help="mp3, ogg or wav (default: speech.format)."),
    ] = None,
    ssml: Annotated[bool, typer.Option("--ssml", help="TEXT is SSML (Yandex).")] = False,
    json_flag: JsonFlag = False,
) -> None:
    """Synthesise speech into an audio file (OpenAI or Yandex)."""
    from tgpilot.gateways.llm.speech import (
        DEFAULT_VOICES,
        TTS_FORMATS,
        SpeechClient,
        resolve_speech,
    )

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    config = app_ctx.config
    if not text.strip():
        raise UsageError("TEXT is empty")
    chosen_format = audio_format or config.speech.format
    if chosen_format not in TTS_FORMATS:
        raise UsageError(f"--format: {chosen_format!r} is not one of {', '.join(TTS_FORMATS)}")
    if out_file.is_dir():
        raise UsageError(f"--out: {out_file} is a folder", hint="give a file name, e.g. hello.mp3")
    target = resolve_speech(config, "speech synthesis")
    if ssml and target.provider != "yandex":
        raise UsageError("--ssml needs speech.provider: yandex (OpenAI takes plain text)")
    client = SpeechClient(target, clock=app_ctx.runtime.clock)
    speech = config.speech
    chosen_voice = voice or speech.voice or DEFAULT_VOICES[target.provider]
    data = run_async(
        client.synthesize(
            text,
            voice=chosen_voice,
            audio_format=chosen_format,  # type: ignore[arg-type]
            ssml=ssml,
            emotion=speech.emotion,
            speed=speech.speed,
            language=speech.language,
        )
    )
    write_out_file(out_file, data)
    out = app_ctx.output
    if json_mode:
        out.emit_json(
            {
                "file": str(out_file),
                "bytes": len(data),
                "format": chosen_format,
                "provider": target.provider,
                "voice": chosen_voice,
            }
        )
        return
    out.line(f"wrote {out_file} ({len(data)} bytes, {chosen_format}, {target.provider})")
