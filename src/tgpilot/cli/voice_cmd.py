"""``tgpilot transcribe`` and ``tgpilot tts``: speech in and out (spec ai.md §4.11).

``transcribe FILE|CHAT:MSG`` sends an audio file (mp3, mp4, mpeg, mpga, m4a, wav, webm,
ogg, oga, flac; oversized files are refused before upload) to the configured speech
provider — OpenAI-compatible ``/audio/transcriptions`` or Yandex SpeechKit — and prints
the text. ``CHAT:MSG`` downloads that message's voice or audio file into a temporary
folder first and stores the transcript with the message. ``transcribe CHAT --all
[--since] [--limit]`` does that for every archived voice, audio and round-video message
of the chat without a transcript, under one session lock (exit 3 when some failed).
``tts TEXT --out FILE`` writes synthesised speech atomically. Without a usable provider
both exit 2 saying what to set (ai.md §5: unavailable, stated).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tgpilot.cli.ai_reports import write_out_file
from tgpilot.cli.context import AppContext, run_async
from tgpilot.cli.options import JsonFlag, SinceOpt
from tgpilot.core.errors import EXIT_ERROR, EXIT_PARTIAL, UsageError
from tgpilot.core.output import progress_bar

if TYPE_CHECKING:
    from tgpilot.gateways.llm.speech import SpeechTarget, Transcript
    from tgpilot.gateways.telegram.gateway import TelegramGateway
    from tgpilot.services.transcription import ChatTranscription, MessageTranscriber
    from tgpilot.store import Store

CHAT_MESSAGE = re.compile(r"^(?P<chat>.+):(?P<msg>\d+)$")

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
        typer.Argument(
            metavar="FILE|CHAT:MSG|CHAT",
            help="An audio file, a chat and message id, or a chat with --all.",
        ),
    ],
    all_messages: Annotated[
        bool,
        typer.Option(
            "--all", help="Every archived voice/audio/round message of CHAT without a transcript."
        ),
    ] = False,
    since: SinceOpt = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="With --all: the newest N messages.")
    ] = None,
    language: LanguageOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Transcribe an audio file, a voice message, or a chat's voice messages."""
    from tgpilot.core.dates import parse_when
    from tgpilot.gateways.llm.speech import check_audio_file, max_upload_bytes, resolve_speech

    app_ctx: AppContext = ctx.obj
    json_mode = app_ctx.use_json(json_flag)
    config = app_ctx.config
    if not all_messages and (since is not None or limit is not None):
        raise UsageError("--since and --limit go with --all")
    path = Path(source)
    chat_message = None if all_messages else CHAT_MESSAGE.match(source)
    from_file = not all_messages and (path.exists() or chat_message is None)
    if from_file:
        check_audio_file(path, max_upload_bytes(config.speech.max_upload_mb))
    start = parse_when(since, config.output.tz, option="--since") if since else None
    target = resolve_speech(config, "transcription")
    chosen_language = language or config.speech.language
    if all_messages:
        batch = run_async(_transcribe_chat(app_ctx, target, source, start, limit, chosen_language))
        _report_batch(app_ctx, batch, json_mode)
        return
    stored = not from_file
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
                "stored": stored,
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


def _transcriber(
    app_ctx: AppContext,
    target: SpeechTarget,
    gateway: TelegramGateway,
    store: Store,
    language: str | None,
) -> MessageTranscriber:
    from tgpilot.gateways.llm.speech import SpeechClient
    from tgpilot.services.transcription import MessageTranscriber
    from tgpilot.store.transcripts import TranscriptRepository

    clock = app_ctx.runtime.clock
    return MessageTranscriber(
        gateway,
        SpeechClient(target, clock=clock),
        max_bytes=target.max_upload_bytes,
        clock=clock,
        transcripts=TranscriptRepository(store),
        language=language,
    )


async def _transcribe_message(
    app_ctx: AppContext,
    target: SpeechTarget,
    chat_text: str,
    message_id: int,
    language: str | None,
) -> Transcript:
    async with app_ctx.open_store() as store, app_ctx.open_gateway() as gateway:
        chat = await gateway.resolve_chat(chat_text)
        found = await gateway.get_messages(chat, [message_id])
        message = found[0] if found else None
        if message is None:
            raise UsageError(f"message {message_id} not found in {chat_text}")
        transcriber = _transcriber(app_ctx, target, gateway, store, language)
        # Everything that can be refused is refused from the metadata, before a byte of
        # the file is downloaded.
        refused = transcriber.refusal(message)
        if refused is not None:
            raise UsageError(
                f"message {message_id} in {chat_text} {refused.reason}"
                if refused.kind == "not_spoken"
                else f"message {message_id} in {chat_text}: {refused.reason}",
                hint=refused.hint,
            )
        return await transcriber.transcribe(message)


async def _transcribe_chat(
    app_ctx: AppContext,
    target: SpeechTarget,
    chat_text: str,
    since: datetime | None,
    limit: int | None,
    language: str | None,
) -> ChatTranscription:
    from tgpilot.services.transcription import transcribe_chat
    from tgpilot.store.transcripts import TranscriptRepository

    async with app_ctx.open_store() as store, app_ctx.open_gateway() as gateway:
        chat = await gateway.resolve_chat(chat_text)
        transcriber = _transcriber(app_ctx, target, gateway, store, language)
        with progress_bar(app_ctx.output, f"transcribing {chat.title}") as progress:
            return await transcribe_chat(
                transcriber,
                gateway,
                TranscriptRepository(store),
                chat,
                since=since,
                limit=limit,
                progress=progress,
            )


def _report_batch(app_ctx: AppContext, batch: ChatTranscription, json_mode: bool) -> None:
    out = app_ctx.output
    skipped = batch.skipped
    if json_mode:
        out.emit_json(batch.to_json())
    else:
        out.line(
            f"{batch.chat.title}: {batch.transcribed} of {batch.candidates} voice messages "
            f"transcribed; skipped {skipped['oversized']} oversized, "
            f"{skipped['unsupported']} unsupported, {skipped['gone']} gone from Telegram; "
            f"{len(batch.failures)} failed"
        )
    for message_id, error in batch.failures:
        out.warn(f"message {message_id}: {error}")
    if batch.failures:
        raise typer.Exit(EXIT_PARTIAL if batch.transcribed else EXIT_ERROR)


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
