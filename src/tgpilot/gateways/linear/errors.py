"""The errors of the Linear gateway, one tree under :class:`LinearError`.

Callers (CLI, chat listener, backlog sync, mirror) catch :class:`LinearError` for any
Linear failure; the exit code each one maps to follows DESIGN rule 3:

    LinearError ............. 1  Linear refused or failed a request (message as sent)
    ├── LinearUnavailable ... 1  transport failure, timeout or 5xx (after the retries)
    ├── LinearAuthError ..... 1  the key or token was refused ("check LINEAR_API_KEY")
    ├── RateLimited ......... 1  Linear asks for a wait over ``linear.max_rate_wait``
    ├── IssueNotFound ....... 2  an issue id or identifier the user gave does not exist
    ├── NotFound ............ 2  a team, project, label, state or user name matched nothing
    └── Ambiguous ........... 2  a name matched several; they are listed

Messages never contain the API key, the OAuth token or request variables.
"""

from __future__ import annotations

from collections.abc import Sequence

from tgpilot.core.errors import TgpilotError, UsageError

AUTH_HINT = "check LINEAR_API_KEY (or LINEAR_OAUTH_TOKEN)"


class LinearError(TgpilotError):
    """Linear answered with errors, an unexpected status, or no usable data.

    ``status`` is the HTTP status when there was a response; ``codes`` holds the
    ``extensions.code`` (or ``type``) of each GraphQL error, so callers can tell
    "entity not found" from other refusals without parsing the message.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        codes: Sequence[str] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.codes = tuple(codes)


class LinearUnavailable(LinearError):
    """Linear could not be reached, timed out, or answered 5xx: the retried failures."""


class LinearAuthError(LinearError):
    """Linear refused the credentials (an authentication error, 401 or 403)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(
            f"Linear refused the credentials: {message}", status=status, hint=AUTH_HINT
        )


class RateLimited(LinearError):
    """Linear's rate limit resets later than the longest wait we accept, or still held
    after every retry (``retried``)."""

    def __init__(self, seconds: float, max_wait: float, *, retried: bool = False) -> None:
        if retried:
            message = (
                f"Linear rate limit still reached after the retries (reset in {seconds:.0f} s)"
            )
        else:
            message = (
                f"Linear rate limit: resets in {seconds:.0f} s (over linear.max_rate_wait "
                f"{max_wait:.0f} s)"
            )
        super().__init__(message, hint="retry later")
        self.seconds = seconds
        self.max_wait = max_wait


class IssueNotFound(UsageError, LinearError):
    """No issue has this id or identifier (exit 2)."""

    def __init__(self, ref: str) -> None:
        UsageError.__init__(self, f"issue {ref} not found")
        self.status = None
        self.codes = ()
        self.ref = ref


class NotFound(UsageError, LinearError):
    """A name the user gave matched nothing; the hint lists close names (exit 2)."""

    def __init__(self, kind: str, text: str, close: Sequence[str] = ()) -> None:
        hint = "did you mean: " + ", ".join(close) if close else None
        UsageError.__init__(self, f'{kind} "{text}" not found', hint=hint)
        self.status = None
        self.codes = ()
        self.kind = kind
        self.text = text
        self.close = tuple(close)


class Ambiguous(UsageError, LinearError):
    """A name the user gave matched several objects; all are listed (exit 2)."""

    def __init__(self, kind: str, text: str, candidates: Sequence[str]) -> None:
        listed = "; ".join(candidates)
        UsageError.__init__(
            self, f'{kind} "{text}" is ambiguous: {listed}', hint="use an email or an id"
        )
        self.status = None
        self.codes = ()
        self.kind = kind
        self.text = text
        self.candidates = tuple(candidates)
