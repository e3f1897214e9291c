"""The settings model: every configuration section and field, with its default.

Later areas add their sections here (a field's type decides how its env value is
read, whether it is a secret and how ``config check`` shows it); how values are found
and merged lives in :mod:`tgpilot.core.config.loader`.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tgpilot.core.errors import ConfigError
from tgpilot.core.paths import Paths
from tgpilot.models import ChatType

ENV_PREFIX = "TGPILOT_"

ENV_ALIASES: dict[str, tuple[str, ...]] = {
    "telegram.api_id": ("TELEGRAM_API_ID",),
    "telegram.api_hash": ("TELEGRAM_API_HASH",),
    "telegram.phone": ("TELEGRAM_PHONE",),
    "telegram.password": ("TELEGRAM_PASSWORD",),
    "keys.openai": ("OPENAI_API_KEY",),
    "keys.anthropic": ("ANTHROPIC_API_KEY",),
    "keys.gemini": ("GEMINI_API_KEY",),
    "keys.yandex": ("YANDEX_API_KEY",),
    "keys.yandex_folder_id": ("YANDEX_FOLDER_ID",),
    "keys.yandex_iam_token": ("YANDEX_IAM_TOKEN",),
    "linear.api_key": ("LINEAR_API_KEY",),
    "linear.oauth_token": ("LINEAR_OAUTH_TOKEN",),
    "linear.default_priority": ("LINEAR_DEFAULT_PRIORITY",),
}
"""Well-known env names accepted for a field (dotted path), after the ``TGPILOT_`` form.

Later areas add theirs here, e.g. ``"openai.api_key": ("OPENAI_API_KEY",)``.
"""

HOME_VAR = "TGPILOT_HOME"
CONFIG_VAR = "TGPILOT_CONFIG"
CONFIG_FILE_NAME = "config.yml"
ENV_FILE_NAME = ".env"

Source = Literal["flag", "env", ".env", "config.yml", "default"]
"""Where a value came from, as ``config check`` prints it."""

FieldStatus = Literal["ok", "missing", "invalid"]

SECRET_KEY = "tgpilot_secret"
URL_PASSWORD = "url-password"
_STORE_DIALECTS = ("sqlite", "mysql", "mariadb", "postgresql", "postgres")


def _annotation_allows(annotation: Any, wanted: type) -> bool:
    """True if ``annotation`` is ``wanted`` or a union containing it."""
    if annotation is wanted:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_annotation_allows(arg, wanted) for arg in get_args(annotation))
    return False


class _Section(BaseModel):
    """Base of every settings model: frozen, unknown keys rejected, no bool-as-number."""

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    @field_validator("*", mode="before")
    @classmethod
    def _reject_booleans(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, bool) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            if not _annotation_allows(annotation, bool):
                raise ValueError(f"a boolean is not allowed here: {str(value).lower()}")
        return value


class TelegramServer(_Section):
    """A non-default Telegram data centre (test server, staging), spec §1.6."""

    dc_id: int = Field(ge=1, description="Data centre id the session is bound to.")
    address: str = Field(description="IP address or host name of the data centre.")
    port: int = Field(default=443, ge=1, le=65535, description="TCP port.")
    rsa_key_file: Path | None = Field(
        default=None,
        description="PEM public key of the server; relative to the config file's folder.",
    )

    def rsa_key_pem(self) -> str | None:
        """The PEM text of ``rsa_key_file`` (None when not set); ConfigError if unreadable."""
        if self.rsa_key_file is None:
            return None
        try:
            return self.rsa_key_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigError(
                f"telegram.server.rsa_key_file: cannot read {self.rsa_key_file}: {reason}"
            ) from exc


class TelegramSettings(_Section):
    """The Telegram application and account (``telegram:``)."""

    api_id: int | None = Field(default=None, gt=0, description="App id (required online).")
    api_hash: SecretStr | None = Field(default=None, description="App hash (required online).")
    phone: str | None = Field(default=None, description="Phone number used by session login.")
    password: SecretStr | None = Field(default=None, description="2FA password.")
    server: TelegramServer | None = Field(default=None, description="Non-default server.")


class SessionSettings(_Section):
    """The account session (``session:``)."""

    lock_wait: float = Field(
        default=15.0, ge=0, allow_inf_nan=False, description="Seconds to wait for the lock."
    )


class FloodSettings(_Section):
    """Flood-wait policy (``flood:``), spec §1.5."""

    max_wait: int = Field(
        default=300, ge=0, description="Longest Telegram-asked wait honoured, seconds."
    )


class LimitsSettings(_Section):
    """Default sizes (``limits:``)."""

    default: int = Field(default=3000, ge=1, description="Default scan --limit.")


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as UTC or Europe/Moscow)"
        ) from None
    return name


class OutputSettings(_Section):
    """How output is rendered (``output:``)."""

    timezone: Annotated[str, AfterValidator(_check_timezone)] = Field(
        default="UTC", description="IANA time zone for human-readable times (--tz)."
    )

    @property
    def tz(self) -> ZoneInfo:
        """The time zone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)


class PathsSettings(_Section):
    """Folders outside the data dir (``paths:``)."""

    exports: Path = Field(default=Path("./exports"), description="Where exports are written.")


def mask_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``: ``mysql://u:***@h/db``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(unparsable URL)"
    if not password:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{parts.username or ''}:***@{host}" + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _check_store_url(url: SecretStr) -> SecretStr:
    text = url.get_secret_value()
    shown = mask_url(text)
    scheme, sep, _rest = text.partition("://")
    dialect = scheme.split("+", 1)[0].lower()
    if not sep or dialect not in _STORE_DIALECTS:
        raise ValueError(
            f"not a database URL: {shown!r} (use sqlite:///PATH, mysql://…, mariadb://… "
            "or postgresql://…)"
        )
    if dialect != "sqlite":
        try:
            parts = urlsplit(text)
            host = parts.hostname
            _ = parts.port
        except ValueError:
            raise ValueError(f"unparsable database URL: {shown!r}") from None
        if not host:
            raise ValueError(f"database URL has no host: {shown!r}")
    elif text == "sqlite://" or text == "sqlite:///":
        raise ValueError(f"SQLite URL has no file: {shown!r}")
    return url


class StoreSettings(_Section):
    """The database (``store:``); ``load_config`` defaults it to ``sqlite:///<home>/tgpilot.db``."""

    url: Annotated[SecretStr, AfterValidator(_check_store_url)] = Field(
        default=SecretStr("sqlite:///tgpilot.db"),
        description="SQLAlchemy URL; a password in it is a secret (env or .env only).",
        json_schema_extra={SECRET_KEY: URL_PASSWORD},
    )

    @property
    def masked_url(self) -> str:
        """The URL with its password masked, safe to print."""
        return mask_url(self.url.get_secret_value())

    @property
    def dialect(self) -> str:
        """``sqlite``, ``mysql`` or ``postgresql`` (``mariadb`` → ``mysql``)."""
        scheme = self.url.get_secret_value().partition("://")[0]
        dialect = scheme.split("+", 1)[0].lower()
        return {"mariadb": "mysql", "postgres": "postgresql"}.get(dialect, dialect)


def _as_integer(value: object) -> int | None:
    """``value`` as an int if it is one (or a string of one), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


class ChatAlias(_Section):
    """A name for one chat (``chats: {team: {id: …}}``): exactly one of id/username/link."""

    id: int | None = Field(default=None, description="Any id form: marked or raw.")
    username: str | None = Field(default=None, description="Public username, without @.")
    link: str | None = Field(default=None, description="A t.me link.")
    type: ChatType | None = Field(default=None, description="Checked against the chat.")
    title: str | None = Field(default=None, description="Display title.")

    @model_validator(mode="before")
    @classmethod
    def _check_alias(cls, data: object) -> object:
        """Every problem of one alias at once, in one message."""
        targets = ", ".join(("id", "username", "link"))
        if not isinstance(data, Mapping):
            raise ValueError(f"must be a mapping with exactly one of {targets}")
        problems: list[str] = []
        unknown = [str(k) for k in data if k not in cls.model_fields]
        if unknown:
            problems.append("unknown key " + ", ".join(repr(k) for k in unknown))
        given = [k for k in ("id", "username", "link") if data.get(k) is not None]
        if not given:
            problems.append(f"no target: give exactly one of {targets}")
        elif len(given) > 1:
            problems.append(f"several targets ({', '.join(given)}): give exactly one of {targets}")
        if data.get("id") is not None and _as_integer(data["id"]) is None:
            problems.append(f"id is not an integer: {data['id']!r}")
        kind = data.get("type")
        allowed = [t.value for t in ChatType]
        if kind is not None and kind not in allowed:
            problems.append(f"unknown type {kind!r} (allowed types: {', '.join(allowed)})")
        if problems:
            raise ValueError("; ".join(problems))
        return data


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    return pattern


class CleanSettings(_Section):
    """Settings of ``tgpilot clean`` (``clean:``)."""

    link_patterns: dict[str, Annotated[str, AfterValidator(_check_regex)]] = Field(
        default_factory=dict, description="Named regexes for `clean links`."
    )

    def compiled_patterns(self) -> dict[str, re.Pattern[str]]:
        """Every link pattern compiled, by name."""
        return {name: re.compile(p) for name, p in self.link_patterns.items()}


class AutoEmojiRule(_Section):
    """One ``like.auto_emoji`` rule: the first keyword found in a message picks ``emoji``."""

    match: list[str] = Field(min_length=1, description="Keywords (case-folded substrings).")
    emoji: str = Field(min_length=1, description="The reaction to send.")


class LikeSettings(_Section):
    """Settings of ``tgpilot like`` (``like:``)."""

    auto_emoji: list[AutoEmojiRule] | None = Field(
        default=None, description="--auto-emoji rules, in order (default: the bundled table)."
    )
    fallback: list[str] | None = Field(
        default=None, description="--auto-emoji choices when no rule matches."
    )


class ProfanitySettings(_Section):
    """Extra profanity terms (``moderation.profanity:``), added to the bundled lists."""

    patterns: list[str] = Field(
        default_factory=list, description="Terms: `stem`, `=word` or `re:PATTERN`."
    )
    exceptions: list[str] = Field(default_factory=list, description="Words never flagged.")


class SpamSettings(_Section):
    """Extra spam categories (``moderation.spam:``), added to the bundled ones."""

    patterns: dict[str, list[str]] = Field(
        default_factory=dict, description="Category name -> terms (`stem`, `=word`, `re:…`)."
    )


class ModerationSettings(_Section):
    """Settings of ``moderate watch|stats|check`` (``moderation:``)."""

    warn_template: str = Field(
        default="⚠️ {sender}, please keep it civil.", description="Warning reply; {sender}."
    )
    apply: bool = Field(default=False, description="Act (warn/delete) inside `tgpilot run`.")
    spam_threshold: int = Field(default=30, ge=1, le=100, description="Spam at this score.")
    replacement: str = Field(default="***", description="What censor() puts for a match.")
    llm_verdict: bool = Field(default=False, description="Ask the LLM near the threshold.")
    profanity: ProfanitySettings = Field(default_factory=ProfanitySettings)
    spam: SpamSettings = Field(default_factory=SpamSettings)


LLMProvider = Literal["openai", "anthropic", "gemini", "local"]


class LLMCommandSettings(_Section):
    """Per-command overrides (``llm.commands.<command>``)."""

    provider: LLMProvider | None = Field(default=None, description="Provider for this command.")
    model: str | None = Field(default=None, description="Model for this command.")
    temperature: float | None = Field(default=None, ge=0, le=2, description="Temperature.")
    max_tokens: int | None = Field(default=None, ge=1, description="Maximum output tokens.")


class LLMSettings(_Section):
    """The LLM provider layer (``llm:``, spec ai.md §1)."""

    provider: LLMProvider = Field(default="openai", description="openai|anthropic|gemini|local.")
    model: str = Field(default="gpt-4o-mini", description="Model name (see `llm models`).")
    base_url: str | None = Field(default=None, description="OpenAI-compatible server URL.")
    api_key_env: str | None = Field(
        default=None, description="Env var holding the key (default: the provider's own)."
    )
    temperature: float | None = Field(default=None, ge=0, le=2, description="null: prompt's.")
    max_tokens: int | None = Field(default=None, ge=1, description="Maximum output tokens.")
    timeout_s: float = Field(default=120, gt=0, description="Read timeout per call.")
    max_retries: int = Field(default=5, ge=1, description="Attempts per call.")
    requests_per_minute: int = Field(default=60, ge=1, description="Rate limit per provider.")
    concurrency: int = Field(default=4, ge=1, description="Parallel map calls.")
    fallback: Literal["local", "none"] = Field(default="local", description="On failure.")
    max_cost_usd: float | None = Field(default=None, ge=0, description="Stop above this spend.")
    cache: bool = Field(default=True, description="Serve identical requests from the store.")
    commands: dict[str, LLMCommandSettings] = Field(
        default_factory=dict, description="Per-command overrides."
    )


class EmbeddingSettings(_Section):
    """Embeddings for semantic search (``embeddings:``)."""

    provider: Literal["openai", "gemini", "local", "hash"] = Field(
        default="openai", description="openai|gemini|local|hash."
    )
    model: str = Field(default="text-embedding-3-small", description="Embedding model.")
    dimension: int = Field(
        default=256, ge=8, description="Vector size of the hash embedder (minimum 8)."
    )


class SpeechSettings(_Section):
    """Transcription and speech (``speech:``)."""

    provider: Literal["openai", "yandex"] = Field(default="openai", description="openai|yandex.")
    model: str = Field(default="whisper-1", description="Speech model.")
    base_url: str | None = Field(
        default=None, description="OpenAI-compatible speech server (null: llm.base_url)."
    )
    language: str | None = Field(
        default=None, description="Spoken language, e.g. ru or ru-RU (null: auto / ru-RU)."
    )
    max_upload_mb: float = Field(
        default=25, gt=0, description="Larger audio files are refused before upload."
    )
    tts_model: str = Field(default="tts-1", description="OpenAI speech-synthesis model.")
    voice: str | None = Field(
        default=None, description="TTS voice (null: alloy on OpenAI, alena on Yandex)."
    )
    format: Literal["mp3", "ogg", "wav"] = Field(default="mp3", description="TTS audio format.")
    emotion: str | None = Field(default=None, description="Yandex TTS emotion, e.g. good.")
    speed: float | None = Field(
        default=None, ge=0.1, le=3, description="Yandex TTS speed (1.0 normal)."
    )
    timeout_s: float = Field(default=120, gt=0, description="Read timeout per speech call.")
    yandex_stt_url: str = Field(
        default="https://stt.api.cloud.yandex.net/speech/v1/stt:recognize",
        description="Yandex SpeechKit recognition endpoint.",
    )
    yandex_tts_url: str = Field(
        default="https://tts.api.cloud.yandex.net/speech/v1/tts:synthesize",
        description="Yandex SpeechKit synthesis endpoint.",
    )


class KeySettings(_Section):
    """Provider API keys (``keys:``): secrets, from the environment or .env only."""

    openai: SecretStr | None = Field(default=None, description="OpenAI (or compatible) key.")
    anthropic: SecretStr | None = Field(default=None, description="Anthropic key.")
    gemini: SecretStr | None = Field(default=None, description="Gemini key.")
    yandex: SecretStr | None = Field(default=None, description="Yandex SpeechKit key.")
    yandex_folder_id: str | None = Field(default=None, description="Yandex Cloud folder id.")
    yandex_iam_token: SecretStr | None = Field(
        default=None, description="Yandex Cloud IAM token (preferred over the API key)."
    )


class PromptSettings(_Section):
    """Where prompt overrides live (``prompts:``, spec ai.md §2)."""

    dir: Path | None = Field(
        default=None, description="Override directory (default <config dir>/prompts)."
    )


class AISettings(_Section):
    """Shared settings of the AI commands (``ai:``)."""

    language: Literal["auto", "en", "ru"] = Field(default="auto", description="Answer language.")


class MeSettings(_Section):
    """Who "me" is for ``tasks`` (``me:``, spec ai.md §4.5), besides the account itself."""

    names: list[str] = Field(
        default_factory=list, description="Names people call you by (matched as whole words)."
    )
    username: str | None = Field(
        default=None, description="Your username, without @, for offline sources."
    )


def check_loopback_addr(value: str | None) -> str | None:
    """``HOST:PORT`` on loopback (metrics and health are never exposed beyond the host)."""
    if value is None:
        return None
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not HOST:PORT: {value!r} (e.g. 127.0.0.1:9464)")
    if host != "localhost" and not (host.startswith("127.") or host == "::1"):
        raise ValueError(f"{host!r} is not a loopback address: use 127.0.0.1 or ::1")
    return value


def _check_working_hours(value: str | None) -> str | None:
    from tgpilot.core.config.working_hours import parse_working_hours

    if value is not None:
        parse_working_hours(value)
    return value


def _check_draft_notice(value: str) -> str:
    try:
        value.format_map({"id": 1, "chat": "chat", "text": "text"})
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"only {{id}}, {{chat}} and {{text}} may be used ({exc})") from None
    return value


class RunModerateWatch(_Section):
    """A ``run.handlers`` entry of kind ``moderate``: one chat moderated as ``moderate watch``
    does it."""

    kind: Literal["moderate"] = Field(description="moderate: a moderation watch.")
    chat: str = Field(min_length=1, description="Alias, link, @username or id.")
    warn: bool = Field(default=False, description="Reply with moderation.warn_template.")
    delete: bool = Field(default=False, description="Delete flagged messages (admin right).")
    spam_threshold: int | None = Field(
        default=None, ge=1, le=100, description="Spam at this score (moderation.spam_threshold)."
    )


class RunExportWatch(_Section):
    """A ``run.handlers`` entry of kind ``export``: one chat whose new messages are appended
    to a file, as ``export --watch`` does it."""

    kind: Literal["export"] = Field(description="export: an export watch.")
    chat: str = Field(min_length=1, description="Alias, link, @username or id.")
    out: Path = Field(description="File appended to; relative paths are in the data dir.")
    format: Literal["md", "transcript", "jsonl", "csv"] = Field(
        default="jsonl", description="md|transcript|jsonl|csv (json cannot be appended to)."
    )
    text_only: bool = Field(default=False, description="Drop messages without text.")
    include_service: bool = Field(default=False, description="Keep service messages.")


class RunSettings(_Section):
    """The long-running account process ``tgpilot run`` (``run:``, spec telegram-cli §4.7)."""

    metrics_addr: Annotated[str | None, AfterValidator(check_loopback_addr)] = Field(
        default=None,
        description="Loopback HOST:PORT for /metrics and /healthz (null: not served).",
    )
    shutdown_timeout_s: float = Field(
        default=30.0, ge=0, allow_inf_nan=False, description="Wait for in-flight replies."
    )
    drafts_poll_s: float = Field(
        default=2.0, gt=0, allow_inf_nan=False, description="How often approved drafts are sent."
    )
    # A plain union: each member's ``kind`` Literal picks it (a pydantic discriminator
    # cannot be used on sections, whose fields have before-validators).
    handlers: list[RunModerateWatch | RunExportWatch] = Field(
        default_factory=list,
        description="Watches to host: {kind: moderate, chat, …} (acts with "
        "moderation.apply) or {kind: export, chat, out, …}.",
    )

    @property
    def moderate(self) -> list[RunModerateWatch]:
        """The moderation watches among ``handlers``."""
        return [h for h in self.handlers if isinstance(h, RunModerateWatch)]

    @property
    def export_watch(self) -> list[RunExportWatch]:
        """The export watches among ``handlers``."""
        return [h for h in self.handlers if isinstance(h, RunExportWatch)]


class AutoanswerSettings(_Section):
    """The auto-responder hosted by ``tgpilot run`` (``autoanswer:``, spec ai.md §4.8)."""

    mode: Literal["off", "auto", "draft"] = Field(default="off", description="off|auto|draft.")
    allow: list[str] = Field(
        default_factory=list, description="Only these chats/users (ids, @usernames, aliases)."
    )
    deny: list[str] = Field(default_factory=list, description="Never these; deny wins.")
    private_only: bool = Field(default=True, description="False: groups too, on mention only.")
    history_turns: int = Field(default=20, ge=0, description="Stored messages sent as context.")
    cooldown_s: float = Field(default=60, ge=0, description="Seconds between replies in a chat.")
    per_chat_hourly: int = Field(default=10, ge=1, description="Replies per chat per hour.")
    global_hourly: int = Field(default=30, ge=1, description="Replies per hour in all chats.")
    working_hours: Annotated[str | None, AfterValidator(_check_working_hours)] = Field(
        default="mon-fri 09:00-20:00",
        description="When to answer, e.g. 'mon-fri 09:00-20:00 [Zone]' (null: always).",
    )
    away_text: str | None = Field(
        default=None, description="Sent outside working hours, at most once per chat per 12 h."
    )
    debounce_s: float = Field(default=3, ge=0, description="Wait for a burst to end.")
    pause_after_manual_s: float = Field(
        default=1800, ge=0, description="Silence in a chat after the owner writes there."
    )
    max_age_s: float = Field(default=120, gt=0, description="Older messages are never answered.")
    stream: bool = Field(default=True, description="Stream into a placeholder message.")
    edit_interval_s: float = Field(default=1.5, gt=0, description="At most one edit per interval.")
    voice: bool = Field(default=False, description="Answer voice messages (needs transcription).")
    draft_notice: Annotated[str, AfterValidator(_check_draft_notice)] = Field(
        default=(
            "Draft #{id} for {chat}:\n\n{text}\n\nSend it: tgpilot autoanswer drafts approve {id}"
        ),
        description="Saved Messages note for a new draft: {id}, {chat}, {text}.",
    )

    @model_validator(mode="before")
    @classmethod
    def _yaml_off(cls, data: object) -> object:
        """YAML 1.1 reads ``mode: off`` as false: take it as written."""
        if isinstance(data, Mapping) and data.get("mode") is False:
            return {**data, "mode": "off"}
        return data


class VectorSettings(_Section):
    """Where vectors live (``vector:``, spec ai.md §4.9): embedded Qdrant by default."""

    url: str | None = Field(
        default=None, description="Qdrant server URL (null: embedded under <data dir>/qdrant)."
    )
    api_key: SecretStr | None = Field(default=None, description="Qdrant server API key.")
    prefer_grpc: bool = Field(default=False, description="Talk gRPC (6334) instead of REST.")
    path: Path | None = Field(
        default=None, description="Embedded storage folder (default <data dir>/qdrant)."
    )


class RagSettings(_Section):
    """Semantic search over the archive (``rag:``, spec ai.md §4.9)."""

    chunk_tokens: int = Field(default=400, ge=16, description="Longest chunk, in tokens.")
    gap_minutes: int = Field(default=30, ge=1, description="A longer silence starts a chunk.")
    k: int = Field(default=8, ge=1, description="Sources `ask` retrieves.")


class KnowledgeBaseSettings(_Section):
    """Knowledge-base retrieval for the consultant (``kb:``, spec ai.md §4.10)."""

    dir: Path | None = Field(default=None, description="Folder of *.md files to index.")
    name: str = Field(default="default", description="Collection name: kb__<name>.")
    chunk_tokens: int = Field(default=500, ge=16, description="Longest section chunk (tokens).")
    chunk_words: int = Field(default=300, ge=0, description="Word-chunker size for long sections.")
    overlap_words: int = Field(default=50, ge=0, description="Word-chunker overlap.")
    top_k: int = Field(default=4, ge=1, description="Chunks a query returns.")
    min_score: float = Field(default=0.2, ge=0, le=1, description="Lowest fused score kept.")
    temperature: float = Field(default=0.3, ge=0, le=2, description="Consultant temperature.")


class LinearListenerSettings(_Section):
    """The ``!linear`` handler inside ``tgpilot run`` (``linear.listener:``, spec
    linear-and-bots.md §1.4)."""

    enabled: bool = Field(default=False, description="Host the handler in `tgpilot run`.")
    chats: list[str] = Field(
        default_factory=list, description="Chats to listen in (empty: every chat)."
    )
    prefix: str = Field(default="!linear", description="Command prefix (blank: !linear).")
    allowed_senders: list[int] = Field(
        default_factory=list,
        description="User ids allowed besides the owner (empty: only the owner).",
    )
    confirm_in: Literal["chat", "saved"] = Field(
        default="chat", description="chat: reply in place; saved: confirm in Saved Messages."
    )

    @field_validator("prefix", mode="after")
    @classmethod
    def _default_prefix(cls, value: str) -> str:
        return value.strip() or "!linear"

    @field_validator("allowed_senders", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """``"1, 2"`` in config.yml as in the environment."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class LinearSettings(_Section):
    """Linear (``linear:``, spec linear-and-bots.md §1): the API, defaults, the listener."""

    api_url: str = Field(default="https://api.linear.app/graphql", description="GraphQL endpoint.")
    api_key: SecretStr | None = Field(
        default=None, description="Personal API key (sent as is, no Bearer)."
    )
    oauth_token: SecretStr | None = Field(
        default=None, description="OAuth access token (sent as Bearer)."
    )
    team: str | None = Field(default=None, description="Default team key or name.")
    project: str | None = Field(default=None, description="Default project of new issues.")
    labels: list[str] = Field(
        default_factory=list, description="Labels of issues created from chats."
    )
    default_priority: Literal[0, 3] = Field(
        default=0, description="Priority when none is given: 0 none or 3 normal."
    )
    page_size: int = Field(default=250, ge=1, le=250, description="Items per page.")
    timeout_s: float = Field(
        default=30.0, gt=0, allow_inf_nan=False, description="Request timeout, seconds."
    )
    max_rate_wait: float = Field(
        default=120.0, ge=0, allow_inf_nan=False, description="Longest rate-limit wait, s."
    )
    dedupe_days: int = Field(
        default=30, ge=0, description="from-chats: same-text window for duplicates, days."
    )
    listener: LinearListenerSettings = Field(default_factory=LinearListenerSettings)

    @field_validator("default_priority", mode="before")
    @classmethod
    def _priority_word(cls, value: object) -> object:
        words = {"none": 0, "no priority": 0, "normal": 3, "medium": 3}
        if isinstance(value, str):
            text = value.strip().lower()
            if text in words:
                return words[text]
            if text.isdigit():
                return int(text)
        return value


class McpSettings(_Section):
    """The MCP server for IDE agents (``mcp:``, spec ops-and-mcp.md §6)."""

    enabled: bool = Field(default=False, description="Serve MCP inside `tgpilot run` (HTTP).")
    allow_write: bool = Field(default=False, description="List and allow the write tools.")
    write_allowlist: list[str] = Field(
        default_factory=list, description="Chats the write tools may touch."
    )
    write_rate: int = Field(default=10, ge=1, description="Writes allowed per minute.")
    max_limit: int = Field(default=200, ge=1, description="Largest `limit` a tool accepts.")
    idle_release: float = Field(
        default=60.0, ge=0, allow_inf_nan=False, description="Idle seconds before unlocking."
    )
    host: str = Field(default="127.0.0.1", description="HTTP transport host.")
    port: int = Field(default=8765, ge=1, le=65535, description="HTTP transport port.")
    http_token: SecretStr | None = Field(
        default=None, description="Bearer token, required off loopback."
    )


class GraphSettings(_Section):
    """Graph-RAG storage (``graph:``, spec ai.md §4.9)."""

    neo4j_url: str | None = Field(
        default=None, description="Neo4j URL for the graph (null: file store in the data dir)."
    )
    neo4j_user: str = Field(default="neo4j", description="Neo4j user.")
    neo4j_password: SecretStr | None = Field(default=None, description="Neo4j password.")


class Settings(_Section):
    """Every configurable field, by section; what config.yml, env and flags can set."""

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    session: SessionSettings = Field(default_factory=SessionSettings)
    flood: FloodSettings = Field(default_factory=FloodSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    output: OutputSettings = Field(default_factory=OutputSettings)
    paths: PathsSettings = Field(default_factory=PathsSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    chats: dict[str, ChatAlias] = Field(default_factory=dict, description="Chat aliases.")
    clean: CleanSettings = Field(default_factory=CleanSettings)
    like: LikeSettings = Field(default_factory=LikeSettings)
    moderation: ModerationSettings = Field(default_factory=ModerationSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    speech: SpeechSettings = Field(default_factory=SpeechSettings)
    keys: KeySettings = Field(default_factory=KeySettings)
    prompts: PromptSettings = Field(default_factory=PromptSettings)
    ai: AISettings = Field(default_factory=AISettings)
    me: MeSettings = Field(default_factory=MeSettings)
    run: RunSettings = Field(default_factory=RunSettings)
    autoanswer: AutoanswerSettings = Field(default_factory=AutoanswerSettings)
    vector: VectorSettings = Field(default_factory=VectorSettings)
    rag: RagSettings = Field(default_factory=RagSettings)
    kb: KnowledgeBaseSettings = Field(default_factory=KnowledgeBaseSettings)
    graph: GraphSettings = Field(default_factory=GraphSettings)
    linear: LinearSettings = Field(default_factory=LinearSettings)
    mcp: McpSettings = Field(default_factory=McpSettings)


class Config(Settings):
    """A valid configuration of one account, plus where it was read from."""

    account: str = "default"
    config_file: Path | None = None
    env_file: Path | None = None
    user_config_dir: Path | None = None
    """``$XDG_CONFIG_HOME/tgpilot`` as the loader found it (None in a hand-built Config)."""
    paths_resolved: Paths

    @property
    def home(self) -> Path:
        """The data dir (``$TGPILOT_HOME``)."""
        return self.paths_resolved.home

    @property
    def config_dir(self) -> Path | None:
        """The folder of the loaded config file, else the user's config folder."""
        return self.config_file.parent if self.config_file is not None else self.user_config_dir

    def require_api_credentials(self) -> tuple[int, str]:
        """``(api_id, api_hash)`` for online commands; ConfigError naming what is missing."""
        missing = [
            missing_message(path)
            for path, value in (
                ("telegram.api_id", self.telegram.api_id),
                ("telegram.api_hash", self.telegram.api_hash),
            )
            if value is None
        ]
        if missing:
            raise ConfigError("\n".join(missing), hint="tgpilot config check")
        assert self.telegram.api_id is not None and self.telegram.api_hash is not None
        return self.telegram.api_id, self.telegram.api_hash.get_secret_value()


def env_name(path: str) -> str:
    """The ``TGPILOT_`` env name of a dotted field path."""
    return ENV_PREFIX + "__".join(part.upper() for part in path.split("."))


def env_names(path: str) -> tuple[str, ...]:
    """Every env name read for a field, winning first: ``TGPILOT_…`` then aliases."""
    return (env_name(path), *ENV_ALIASES.get(path, ()))


def missing_message(path: str) -> str:
    return f"{path}: missing — set {' or '.join(env_names(path))}"
