"""The one exception tree of tgpilot, and the exit code each error maps to.

Every error a user can cause or meet is one of these; the CLI renders it once as
``error: <message>`` plus an optional ``hint: <hint>`` and exits with ``exit_code``
(DESIGN rule 3 and 5). Nothing here may carry a secret in its message.

    TgpilotError
    ├── UsageError ............... 2  bad flag value, file or input
    │   ├── ConfigError .......... 2  a missing or wrong configuration value
    │   ├── NotAuthorized ........ 2  the account session is not logged in
    │   ├── ChatNotFound ......... 2  a CHAT argument resolves to nothing
    │   ├── AmbiguousChat ........ 2  a CHAT argument resolves to several chats
    │   ├── ReactionNotAllowed ... 2  the chat does not accept this reaction
    │   └── MissingAdminRight .... 2  the account lacks an admin right the action needs
    ├── SessionBusy .............. 4  another process holds the account session
    ├── FloodWaitTooLong ......... 3/1 Telegram asks for a wait over the threshold
    ├── TelegramError ............ 1  an RPC error Telegram returned
    ├── NetworkError ............. 1  Telegram could not be reached
    ├── StoreError ............... 1  the database failed
    ├── ProviderError ............ 1  an LLM provider call failed (spec ai.md §1.2)
    │   ├── ProviderAuthError .... 1  the key was refused (401/403)
    │   ├── ProviderRateLimited .. 1  429 after every retry
    │   ├── ProviderUnavailable .. 1  5xx/529/408/409, connection error or timeout
    │   ├── ProviderBadRequest ... 1  400/404/422 and other refusals of the request
    │   ├── EmptyResponse ........ 1  no choices, or null content
    │   └── AnswerParseError ..... 1  the answer is not the JSON asked for
    └── PartialFailure ........... 3/1 some (or all) items of a batch failed
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_BUSY = 4


class TgpilotError(Exception):
    """Base of every error tgpilot reports to a user."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(TgpilotError):
    """Bad usage: a flag value, file or name given by the user is wrong (exit 2)."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A configuration value is missing or invalid; the message names the field."""


class NotAuthorized(UsageError):
    """The session file is not logged in."""

    def __init__(self, session_path: str) -> None:
        super().__init__(
            f"not logged in: session {session_path} is not authorised",
            hint="tgpilot session login",
        )
        self.session_path = session_path


@dataclass(frozen=True)
class ChatCandidate:
    """A chat suggested to the user when their input matched nothing or several."""

    name: str
    id: int | None
    type: str

    def render(self) -> str:
        if self.id is None:
            return f"{self.name} ({self.type})"
        return f"{self.name} ({self.id}, {self.type})"


class ChatNotFound(UsageError):
    """A CHAT argument matched no chat; says what was tried and suggests candidates."""

    def __init__(self, text: str, tried: str, candidates: Sequence[ChatCandidate] = ()) -> None:
        hint = None
        if candidates:
            hint = "did you mean: " + ", ".join(c.render() for c in candidates[:5])
        super().__init__(f'chat "{text}" not found: {tried}', hint=hint)
        self.text = text
        self.candidates = tuple(candidates)


class AmbiguousChat(UsageError):
    """A CHAT argument matched several chats; lists up to ten of them."""

    def __init__(
        self, text: str, matches: Sequence[ChatCandidate], hint: str | None = None
    ) -> None:
        listed = "; ".join(c.render() for c in matches[:10])
        super().__init__(f'chat "{text}" is ambiguous: {listed}', hint=hint)
        self.text = text
        self.matches = tuple(matches)


class ReactionNotAllowed(UsageError):
    """A reaction the chat does not accept; lists the ones it does (spec §4.1)."""

    def __init__(self, emoji: str, chat_title: str, allowed: Sequence[str]) -> None:
        listed = " ".join(allowed) if allowed else "none"
        super().__init__(f"{emoji} is not allowed in {chat_title}; allowed: {listed}")
        self.emoji = emoji
        self.chat_title = chat_title
        self.allowed = tuple(allowed)


class MissingAdminRight(UsageError):
    """The account lacks an admin right the action needs (e.g. "delete messages")."""

    def __init__(self, right: str, chat_title: str, *, hint: str | None = None) -> None:
        super().__init__(f'missing the "{right}" admin right in {chat_title}', hint=hint)
        self.right = right
        self.chat_title = chat_title


class SessionBusy(TgpilotError):
    """Another process holds the account session lock (exit 4)."""

    exit_code = EXIT_BUSY

    def __init__(self, holder: str) -> None:
        super().__init__(
            f"session busy: held by {holder}",
            hint="wait for it to finish, or raise --lock-wait",
        )
        self.holder = holder


class FloodWaitTooLong(TgpilotError):
    """Telegram asked for a wait longer than ``flood.max_wait`` (or floods repeated).

    Exit 3 when something was already done (the caller sets ``done``), else 1.
    """

    def __init__(self, seconds: int, threshold: int, request: str) -> None:
        super().__init__(
            f"Telegram asks for a {seconds} s wait (over --max-flood-wait {threshold})"
            f" on {request}; rerun to resume",
        )
        self.seconds = seconds
        self.threshold = threshold
        self.request = request
        self.done = 0

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return EXIT_PARTIAL if self.done else EXIT_ERROR


class TelegramError(TgpilotError):
    """Telegram answered a request with an RPC error (name and request in the message)."""

    def __init__(self, rpc_name: str, request: str, *, hint: str | None = None) -> None:
        super().__init__(f"Telegram error {rpc_name} on {request}", hint=hint)
        self.rpc_name = rpc_name
        self.request = request


class NetworkError(TgpilotError):
    """Telegram (or another server) could not be reached."""


class StoreError(TgpilotError):
    """The database failed; the URL in the message has its password masked."""


class PartialFailure(TgpilotError):
    """A batch ended with failures: exit 3 if anything succeeded, else 1."""

    def __init__(self, done: int, skipped: int, failed: int) -> None:
        super().__init__(f"done {done}, skipped {skipped}, failed {failed}")
        self.done = done
        self.skipped = skipped
        self.failed = failed

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return EXIT_PARTIAL if self.done else EXIT_ERROR


class ProviderError(TgpilotError):
    """An LLM provider call failed: ``<provider> error <status>: <detail>``.

    ``detail`` is already cut and free of keys (the gateway redacts it); ``retryable``
    says whether the one retry policy may try again; ``retry_after`` is the server's
    ``Retry-After`` in seconds, when it sent one.
    """

    retryable = False

    def __init__(
        self,
        provider: str,
        detail: str,
        *,
        status: int | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        where = f"{provider} error {status}" if status is not None else f"{provider} error"
        super().__init__(f"{where}: {detail}", hint=hint)
        self.provider = provider
        self.detail = detail
        self.status = status
        self.retry_after = retry_after


class ProviderAuthError(ProviderError):
    """The provider refused the key (401, 403); the hint names the env var to fix."""


class ProviderRateLimited(ProviderError):
    """The provider answered 429 (retried, honouring ``Retry-After``)."""

    retryable = True


class ProviderUnavailable(ProviderError):
    """5xx, 529, 408, 409, a connection error or a timeout (retried)."""

    retryable = True


class ProviderBadRequest(ProviderError):
    """The provider refused the request itself (400, 404, 422, …); never retried."""


class EmptyResponse(ProviderError):
    """The answer had no choices or null content: never taken as an empty string."""


class AnswerParseError(ProviderError):
    """The answer could not be read as the JSON asked for; ``raw`` keeps it whole."""

    def __init__(self, provider: str, detail: str, *, raw: str, hint: str | None = None) -> None:
        super().__init__(provider, detail, hint=hint)
        self.raw = raw
