"""Speech: transcription and synthesis (spec ai.md §4.11), OpenAI-compatible or Yandex.

- ``openai``: ``/audio/transcriptions`` and ``/audio/speech`` through the official SDK,
  at ``speech.base_url``, else ``llm.base_url``, else OpenAI (a local Whisper server on
  loopback needs no key).
- ``yandex``: SpeechKit v1 over HTTP — ``stt:recognize?folderId=…&lang=…`` with the
  audio as the body, and ``tts:synthesize`` with form fields. A folder id is required;
  ``Authorization: Bearer <IAM token>`` when a token is set, else ``Api-Key <key>``.

Everything is checked by :func:`resolve_speech` before anything is sent; failures are
the typed :class:`~tgpilot.core.errors.ProviderError` subclasses with keys redacted,
retried under the one policy of :mod:`.retry`. The SDK loads only when a call is made.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx2
from pydantic import SecretStr

from tgpilot.core.clock import Clock
from tgpilot.core.config import Config, env_names
from tgpilot.core.config.loader import llm_api_key_from_env
from tgpilot.core.errors import ConfigError, ProviderError, UsageError
from tgpilot.gateways.llm.failures import Endpoint, connection_error, status_error
from tgpilot.gateways.llm.resolve import is_loopback
from tgpilot.gateways.llm.retry import call_with_retries

OFFICIAL_OPENAI_URL = "https://api.openai.com/v1"
CONNECT_TIMEOUT_S = 10.0
NO_KEY = "no-key"
AUDIO_EXTENSIONS = ("mp3", "mp4", "mpeg", "mpga", "m4a", "wav", "webm", "ogg", "oga", "flac")
"""The audio files ``transcribe`` accepts (ai.md §4.11)."""
TTS_FORMATS = ("mp3", "ogg", "wav")
DEFAULT_VOICES = {"openai": "alloy", "yandex": "alena"}
OPENAI_FORMATS = {"mp3": "mp3", "ogg": "opus", "wav": "wav"}
YANDEX_FORMATS = {"mp3": "mp3", "ogg": "oggopus", "wav": "lpcm"}
YANDEX_DEFAULT_LANG = "ru-RU"
YANDEX_SAMPLE_RATE = 48000
YANDEX_STT_FORMATS = {"ogg": "oggopus", "oga": "oggopus", "opus": "oggopus", "mp3": "mp3"}

T = TypeVar("T")
Action = Literal["transcription", "speech synthesis"]
TtsFormat = Literal["mp3", "ogg", "wav"]


@dataclass(frozen=True)
class SpeechTarget:
    """Everything settled about where speech calls go (no secret is ever printed)."""

    provider: str
    model: str
    tts_model: str
    base_url: str
    """OpenAI-compatible base URL, or the Yandex recognition endpoint."""
    tts_url: str
    api_key: SecretStr | None
    key_env: str
    folder_id: str | None
    iam_token: SecretStr | None
    timeout_s: float
    max_retries: int
    max_upload_bytes: int

    @property
    def secret(self) -> str | None:
        """The credential actually sent (the IAM token wins on Yandex)."""
        chosen = self.iam_token or self.api_key
        return chosen.get_secret_value() if chosen is not None else None

    def authorization(self) -> str:
        """Yandex's ``Authorization`` header value."""
        if self.iam_token is not None:
            return f"Bearer {self.iam_token.get_secret_value()}"
        assert self.api_key is not None
        return f"Api-Key {self.api_key.get_secret_value()}"

    def endpoint(self, url: str | None = None) -> Endpoint:
        return Endpoint(self.provider, url or self.base_url, self.model, self.key_env, self.secret)


@dataclass(frozen=True)
class Transcript:
    """What a transcription returned."""

    text: str
    provider: str
    model: str
    language: str | None


def _openai_key(config: Config, environ: Mapping[str, str] | None) -> tuple[SecretStr | None, str]:
    if config.llm.api_key_env:
        return llm_api_key_from_env(config, environ), config.llm.api_key_env
    return config.keys.openai, env_names("keys.openai")[-1]


def max_upload_bytes(megabytes: float) -> int:
    """``speech.max_upload_mb`` in bytes."""
    return int(megabytes * 1024 * 1024)


def resolve_speech(
    config: Config, action: Action, *, environ: Mapping[str, str] | None = None
) -> SpeechTarget:
    """The settled speech target; a ConfigError (exit 2, nothing sent) naming what to
    set when the provider cannot be used (ai.md §5: unavailable, stated)."""
    speech = config.speech
    max_bytes = max_upload_bytes(speech.max_upload_mb)
    if speech.provider == "yandex":
        keys = config.keys
        if not keys.yandex_folder_id:
            names = " or ".join(env_names("keys.yandex_folder_id"))
            raise ConfigError(
                f"{action} unavailable: Yandex SpeechKit needs a folder id: set {names}",
                hint="the id of the Yandex Cloud folder that holds the SpeechKit service",
            )
        if keys.yandex_iam_token is None and keys.yandex is None:
            token_env = env_names("keys.yandex_iam_token")[-1]
            api_key_env = env_names("keys.yandex")[-1]
            raise ConfigError(f"{action} unavailable: set {token_env} or {api_key_env}")
        key_env = (
            env_names("keys.yandex_iam_token")[-1]
            if keys.yandex_iam_token is not None
            else env_names("keys.yandex")[-1]
        )
        return SpeechTarget(
            provider="yandex",
            model="speechkit-v1",
            tts_model="speechkit-v1",
            base_url=speech.yandex_stt_url,
            tts_url=speech.yandex_tts_url,
            api_key=keys.yandex,
            key_env=key_env,
            folder_id=keys.yandex_folder_id,
            iam_token=keys.yandex_iam_token,
            timeout_s=speech.timeout_s,
            max_retries=config.llm.max_retries,
            max_upload_bytes=max_bytes,
        )
    base_url = speech.base_url or config.llm.base_url or OFFICIAL_OPENAI_URL
    key, key_env = _openai_key(config, environ)
    if key is None and not is_loopback(base_url):
        raise ConfigError(
            f"{action} unavailable: no API key for openai speech: set {key_env}",
            hint="or set speech.provider: yandex, or a local server as speech.base_url",
        )
    return SpeechTarget(
        provider="openai",
        model=speech.model,
        tts_model=speech.tts_model,
        base_url=base_url.rstrip("/"),
        tts_url=base_url.rstrip("/"),
        api_key=key,
        key_env=key_env,
        folder_id=None,
        iam_token=None,
        timeout_s=speech.timeout_s,
        max_retries=config.llm.max_retries,
        max_upload_bytes=max_bytes,
    )


def check_audio_file(path: Path, max_bytes: int) -> int:
    """The size of ``path`` if it is an accepted audio file within the limit, else a
    UsageError (exit 2) — before anything is uploaded."""
    extension = path.suffix.lower().lstrip(".")
    if extension not in AUDIO_EXTENSIONS:
        raise UsageError(
            f"{path.name}: unsupported audio type {('.' + extension) if extension else '(none)'}",
            hint="accepted: " + ", ".join(AUDIO_EXTENSIONS),
        )
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    size = path.stat().st_size
    if size > max_bytes:
        raise UsageError(
            f"{path.name}: {size} bytes is over the upload limit of {max_bytes} bytes",
            hint="raise speech.max_upload_mb, or cut the recording",
        )
    return size


def wav_from_pcm(pcm: bytes, sample_rate: int = YANDEX_SAMPLE_RATE) -> bytes:
    """A 16-bit mono WAV file around raw little-endian PCM samples."""
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        sample_rate,
        sample_rate * 2,
        2,
        16,
        b"data",
        len(pcm),
    )
    return header + pcm


class SpeechClient:
    """Transcription and synthesis against one :class:`SpeechTarget`."""

    def __init__(
        self,
        target: SpeechTarget,
        *,
        clock: Clock,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.target = target
        self._clock = clock
        self._transport = transport
        self.requests = 0

    # ------------------------------------------------------------------ public

    async def transcribe(self, path: Path, *, language: str | None = None) -> Transcript:
        """The text spoken in ``path`` (checked against the extension list and size)."""
        check_audio_file(path, self.target.max_upload_bytes)
        if self.target.provider == "yandex":
            lang = language or YANDEX_DEFAULT_LANG
            text = await self._retrying(lambda: self._yandex_stt(path, lang))
            return Transcript(text, "yandex", self.target.model, lang)
        text = await self._retrying(lambda: self._openai_stt(path, language))
        return Transcript(text, "openai", self.target.model, language)

    async def synthesize(
        self,
        text: str,
        *,
        voice: str | None = None,
        audio_format: TtsFormat = "mp3",
        ssml: bool = False,
        emotion: str | None = None,
        speed: float | None = None,
        language: str | None = None,
    ) -> bytes:
        """``text`` (or SSML) spoken, as ``audio_format`` bytes."""
        provider = self.target.provider
        chosen_voice = voice or DEFAULT_VOICES[provider]
        if provider == "yandex":
            return await self._retrying(
                lambda: self._yandex_tts(
                    text, chosen_voice, audio_format, ssml, emotion, speed, language
                )
            )
        if ssml:
            raise UsageError("--ssml needs speech.provider: yandex (OpenAI takes plain text)")
        return await self._retrying(
            lambda: self._openai_tts(text, chosen_voice, audio_format, speed)
        )

    # ------------------------------------------------------------------ plumbing

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        return await call_with_retries(call, attempts=self.target.max_retries, clock=self._clock)

    def _http(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            timeout=httpx2.Timeout(self.target.timeout_s, connect=CONNECT_TIMEOUT_S),
            transport=self._transport,
        )

    def _openai(self) -> Any:
        import openai

        http_client = (
            openai.DefaultAsyncHttpxClient(transport=self._transport)
            if self._transport is not None
            else None
        )
        return openai.AsyncOpenAI(
            api_key=self.target.secret or NO_KEY,
            base_url=self.target.base_url,
            timeout=openai.Timeout(self.target.timeout_s, connect=CONNECT_TIMEOUT_S),
            max_retries=0,
            http_client=http_client,
        )

    def _translate(self, exc: Exception) -> ProviderError:
        import openai

        endpoint = self.target.endpoint()
        if isinstance(exc, openai.APIStatusError):
            response = exc.response
            try:
                body = response.text
            except httpx2.ResponseNotRead:
                body = exc.message
            return status_error(
                endpoint, exc.status_code, body, dict(response.headers), self._clock.now()
            )
        timed_out = isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException)
        reason = str(exc.__cause__ or exc) or type(exc).__name__
        return connection_error(endpoint, reason, timed_out=timed_out)

    async def _openai_stt(self, path: Path, language: str | None) -> str:
        import openai

        self.requests += 1
        params: dict[str, Any] = {"model": self.target.model}
        if language:
            params["language"] = language
        try:
            async with self._openai() as client:
                with path.open("rb") as audio:
                    result = await client.audio.transcriptions.create(file=audio, **params)
        except (openai.OpenAIError, httpx2.HTTPError) as exc:
            raise self._translate(exc) from exc
        text = getattr(result, "text", result)
        return str(text).strip()

    async def _openai_tts(
        self, text: str, voice: str, audio_format: TtsFormat, speed: float | None
    ) -> bytes:
        import openai

        self.requests += 1
        params: dict[str, Any] = {
            "model": self.target.tts_model,
            "voice": voice,
            "input": text,
            "response_format": OPENAI_FORMATS[audio_format],
        }
        if speed is not None:
            params["speed"] = speed
        try:
            async with self._openai() as client:
                response = await client.audio.speech.create(**params)
                data: bytes = response.content
        except (openai.OpenAIError, httpx2.HTTPError) as exc:
            raise self._translate(exc) from exc
        return data

    async def _yandex_post(self, url: str, **kwargs: Any) -> httpx2.Response:
        endpoint = self.target.endpoint(url)
        headers = {"Authorization": self.target.authorization()}
        self.requests += 1
        try:
            async with self._http() as http:
                response = await http.post(url, headers=headers, **kwargs)
        except httpx2.TimeoutException as exc:
            raise connection_error(endpoint, str(exc) or "timeout", timed_out=True) from exc
        except httpx2.HTTPError as exc:
            raise connection_error(
                endpoint, str(exc) or type(exc).__name__, timed_out=False
            ) from exc
        if response.status_code >= 400:
            body = response.text
            detail = _yandex_detail(body)
            raise status_error(
                endpoint, response.status_code, detail, dict(response.headers), self._clock.now()
            )
        return response

    async def _yandex_stt(self, path: Path, lang: str) -> str:
        params: dict[str, str] = {"folderId": self.target.folder_id or "", "lang": lang}
        audio_format = YANDEX_STT_FORMATS.get(path.suffix.lower().lstrip("."))
        if audio_format is not None:
            params["format"] = audio_format
        response = await self._yandex_post(
            self.target.base_url, params=params, content=path.read_bytes()
        )
        try:
            result = response.json().get("result")
        except (ValueError, AttributeError):
            result = None
        if not isinstance(result, str):
            raise ProviderError(
                "yandex",
                self.target.endpoint().redact(response.text[:300]) or "no result",
                hint="SpeechKit answered without a `result`",
            )
        return result.strip()

    async def _yandex_tts(
        self,
        text: str,
        voice: str,
        audio_format: TtsFormat,
        ssml: bool,
        emotion: str | None,
        speed: float | None,
        language: str | None,
    ) -> bytes:
        form: dict[str, str] = {
            ("ssml" if ssml else "text"): text,
            "voice": voice,
            "format": YANDEX_FORMATS[audio_format],
            "folderId": self.target.folder_id or "",
            "lang": language or YANDEX_DEFAULT_LANG,
        }
        if audio_format == "wav":
            form["sampleRateHertz"] = str(YANDEX_SAMPLE_RATE)
        if emotion:
            form["emotion"] = emotion
        if speed is not None:
            form["speed"] = f"{speed:g}"
        response = await self._yandex_post(self.target.tts_url, data=form)
        data = response.content
        return wav_from_pcm(data) if audio_format == "wav" else data


def _yandex_detail(body: str) -> str:
    """SpeechKit's ``error_message`` (else the usual error shapes) as a JSON-ish body
    :func:`status_error` understands."""
    import json

    try:
        parsed = json.loads(body) if body.strip() else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("error_message"), str):
        return json.dumps({"message": parsed["error_message"]})
    return body
