"""Turning a provider's HTTP failure into one typed, safe :class:`ProviderError`.

The message is ``<provider> error <status>: <first 300 characters>`` of what the server
said (its error message when the body is JSON), with the key and anything shaped like
a key replaced by ``***``; the hint names the env var, model or parameter at fault.
Which class a status becomes decides whether it is retried (see :mod:`.retry`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from tgpilot.core.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)

DETAIL_LENGTH = 300
RETRIED_STATUSES = frozenset({408, 409, 429, 529})
_KEY_SHAPES = re.compile(
    r"(sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|(?i:key=)[^&\s\"']+|(?i:bearer )\S+)"
)
_PARAMETERS = (
    "max_completion_tokens",
    "max_tokens",
    "temperature",
    "response_format",
    "stream_options",
    "system",
)


@dataclass(frozen=True)
class Endpoint:
    """Who is being called, for messages and hints: provider, URL, model, key variable."""

    provider: str
    base_url: str
    model: str
    key_env: str
    secret: str | None = None

    def redact(self, text: str) -> str:
        """``text`` without the key or anything shaped like one."""
        if self.secret and len(self.secret) >= 4:
            text = text.replace(self.secret, "***")
        return _KEY_SHAPES.sub("***", text)


def error_detail(body: str, fallback: str) -> str:
    """What the server said: ``error.message`` of a JSON body, else the body itself."""
    text = body.strip()
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if isinstance(parsed.get("message"), str):
            return str(parsed["message"])
    return text or fallback


def retry_after_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """The server's ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


def _clip(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line[:DETAIL_LENGTH]


def _bad_request_hint(endpoint: Endpoint, status: int, detail: str) -> str:
    if status == 404:
        return (
            f"model {endpoint.model!r} may not exist at {endpoint.base_url}: "
            "see tgpilot llm models, or set --model / llm.model"
        )
    lowered = detail.lower()
    for parameter in _PARAMETERS:
        if parameter in lowered:
            if parameter == "temperature":
                return (
                    f"model {endpoint.model!r} refused the temperature: set "
                    "fixed_temperature: true for it in models.yml, or drop --temperature"
                )
            return f"model {endpoint.model!r} refused the parameter {parameter}"
    return f"the request was refused for model {endpoint.model!r} at {endpoint.base_url}"


def status_error(
    endpoint: Endpoint, status: int, body: str, headers: Mapping[str, str], now: datetime
) -> ProviderError:
    """The typed error for an HTTP ``status`` answer."""
    detail = _clip(endpoint.redact(error_detail(body, f"HTTP {status}")))
    name = endpoint.provider
    if status in (401, 403):
        what = "refused" if endpoint.secret else "is missing"
        return ProviderAuthError(
            name,
            detail,
            status=status,
            hint=f"the key {what}: check {endpoint.key_env} (used for {endpoint.base_url})",
        )
    retry_after = retry_after_seconds(headers, now)
    if status == 429:
        return ProviderRateLimited(
            name,
            detail,
            status=status,
            retry_after=retry_after,
            hint="the provider limits requests: wait, or lower llm.requests_per_minute",
        )
    if status >= 500 or status in RETRIED_STATUSES:
        return ProviderUnavailable(
            name,
            detail,
            status=status,
            retry_after=retry_after,
            hint=f"{endpoint.base_url} is failing: try later, raise llm.max_retries, "
            "or use llm.fallback: local",
        )
    return ProviderBadRequest(
        name, detail, status=status, hint=_bad_request_hint(endpoint, status, detail)
    )


def connection_error(endpoint: Endpoint, reason: str, *, timed_out: bool) -> ProviderUnavailable:
    """The typed error for a connection failure or a timeout (both retried)."""
    what = "timed out" if timed_out else "cannot connect"
    detail = _clip(endpoint.redact(f"{what}: {reason}"))
    hint = (
        "raise llm.timeout_s, or try later"
        if timed_out
        else f"is the server at {endpoint.base_url} running? check llm.base_url"
    )
    return ProviderUnavailable(endpoint.provider, detail, hint=hint)
