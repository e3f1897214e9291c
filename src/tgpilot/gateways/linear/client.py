"""The Linear GraphQL client: the one place tgpilot talks to Linear (spec §1.1).

:class:`LinearClient` is small on purpose; every Linear feature (CLI, chat listener,
backlog sync, mirror) goes through these calls:

- ``await client.execute(name, variables)`` sends the named document
  ``queries/<name>.graphql`` and returns its ``data``;
- ``client.paginate(name, variables, connection="team.labels")`` iterates the nodes
  of any connection, ``first`` = ``linear.page_size``, following ``endCursor`` while
  ``hasNextPage`` (N items cost ceil(N / page) requests);
- ``await client.mutate(name, variables, field=…, entity=…)`` returns the mutated
  entity, or raises "Linear did not confirm <name>";
- ``await client.create_issue(input)`` is the safe create (a client UUID as ``id``);
- ``client.catalog`` holds the per-process caches (teams, labels, states, …);
- ``client.requests`` counts round trips (retries included).

Responses are classified in the spec's order: transport failure or timeout (retried);
a non-JSON body; ``RATELIMITED`` errors (wait for the reset up to
``linear.max_rate_wait``, else :class:`RateLimited` at once); authentication errors or
401/403; other errors (messages joined by ``"; "``); other non-2xx statuses; a missing
``data``. Only transport failures, 5xx and rate limits are retried: at most four
retries with jittered exponential back-off (1, 2, 4, 8 s ceilings, so under 60 s in
all), sleeping through the injected :class:`~tgpilot.core.clock.Clock`. Under 10 % of
the request budget left (``X-RateLimit-Requests-*``), requests are spread evenly until
the reset with aiolimiter (which waits on the event loop's time, not the Clock).
Messages never contain the key or the variables.
"""

from __future__ import annotations

import math
import random
import re
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx
import orjson
from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base

from tgpilot.core.clock import Clock
from tgpilot.core.errors import ConfigError
from tgpilot.gateways.linear.documents import load_document
from tgpilot.gateways.linear.errors import (
    LinearAuthError,
    LinearError,
    LinearUnavailable,
    RateLimited,
)

if TYPE_CHECKING:
    from tgpilot.core.config.settings import LinearSettings
    from tgpilot.gateways.linear.catalog import WorkspaceCatalog

MAX_RETRIES = 4
BACKOFF_START_S = 1.0
PACE_BELOW = 0.10
"""Pace requests once fewer than this share of the request budget is left."""
UNKNOWN_RESET_S = 60.0
"""The wait assumed when a ``RATELIMITED`` answer says nothing about its reset."""
BODY_EXCERPT = 500
AUTH_CODES = frozenset({"AUTHENTICATION_ERROR", "FORBIDDEN", "UNAUTHENTICATED"})
_DUPLICATE_ID = re.compile(r"already exists|duplicate|unique constraint", re.IGNORECASE)
_NOT_FOUND = re.compile(r"not found|could not find", re.IGNORECASE)


def authorization(settings: LinearSettings) -> str:
    """The ``Authorization`` value: the API key as is, or ``Bearer <OAuth token>``.

    Raises :class:`ConfigError` naming ``LINEAR_API_KEY`` when neither is set (or both
    are blank), before any request is made.
    """
    key = settings.api_key.get_secret_value().strip() if settings.api_key else ""
    if key:
        return key
    token = settings.oauth_token.get_secret_value().strip() if settings.oauth_token else ""
    if token:
        return f"Bearer {token}"
    raise ConfigError(
        "LINEAR_API_KEY is not set (or blank)",
        hint="put LINEAR_API_KEY in the environment or .env (or LINEAR_OAUTH_TOKEN for OAuth)",
    )


class _RateLimitPause(LinearError):
    """Internal: Linear said RATELIMITED and the reset is within ``max_rate_wait``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Linear rate limit: waiting {seconds:.1f} s for the reset")
        self.seconds = seconds


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, LinearUnavailable | _RateLimitPause)


def backoff_seconds(attempt: int, draw: Callable[[], float] = random.random) -> float:
    """The wait after failed attempt ``attempt`` (1-based): full jitter over a ceiling
    of 1, 2, 4, 8 s — at most 15 s over the four retries."""
    return draw() * math.ldexp(BACKOFF_START_S, attempt - 1)


class _Wait(wait_base):
    """The rate limit's reset after ``RATELIMITED``, else jittered back-off."""

    def __init__(self, draw: Callable[[], float]) -> None:
        self._draw = draw

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        failure = outcome.exception() if outcome is not None else None
        if isinstance(failure, _RateLimitPause):
            return failure.seconds
        return backoff_seconds(retry_state.attempt_number, self._draw)


@dataclass(frozen=True)
class RateBudget:
    """The request budget Linear reported with the latest response."""

    limit: int
    remaining: int
    reset_at: float
    """When the budget refills, seconds since the epoch."""


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _error_code(error: Mapping[str, Any]) -> str:
    extensions = error.get("extensions")
    if isinstance(extensions, Mapping):
        code = extensions.get("code") or extensions.get("type") or ""
        return str(code)
    return ""


def _is_auth_error(error: Mapping[str, Any]) -> bool:
    code = _error_code(error).upper().replace(" ", "_")
    return code in AUTH_CODES


def _failure(status: int, message: str, codes: tuple[str, ...] = ()) -> LinearError:
    """A 5xx is the retried :class:`LinearUnavailable`; anything else is final."""
    if status >= 500:
        return LinearUnavailable(message, status=status, codes=codes)
    return LinearError(message, status=status, codes=codes)


def is_not_found(exc: LinearError) -> bool:
    """True when Linear refused because the entity asked for does not exist."""
    return bool(_NOT_FOUND.search(exc.message)) or "ENTITY_NOT_FOUND" in exc.codes


def _dig(data: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    node: Any = data
    for key in path.split("."):
        node = node.get(key) if isinstance(node, Mapping) else None
    if not isinstance(node, Mapping):
        raise LinearError(f"Linear sent no {path} connection")
    return node


class LinearClient:
    """An async Linear GraphQL client over httpx; use as an async context manager."""

    def __init__(
        self,
        *,
        api_url: str,
        authorization: str,
        clock: Clock,
        page_size: int = 250,
        timeout_s: float = 30.0,
        max_rate_wait: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.api_url = api_url
        self.page_size = page_size
        self.timeout_s = timeout_s
        self.max_rate_wait = max_rate_wait
        self.requests = 0
        """Round trips made so far, retries included."""
        self.budget: RateBudget | None = None
        self._clock = clock
        self._draw = draw
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
            headers={
                "Authorization": authorization,
                "Content-Type": "application/json",
                "User-Agent": "tgpilot",
            },
        )
        self._limiter: AsyncLimiter | None = None
        self._pace_until = 0.0
        self._catalog: WorkspaceCatalog | None = None

    @classmethod
    def from_settings(
        cls,
        settings: LinearSettings,
        *,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Self:
        """A client for the configured endpoint (a :class:`ConfigError` without a key)."""
        return cls(
            api_url=settings.api_url,
            authorization=authorization(settings),
            clock=clock,
            page_size=settings.page_size,
            timeout_s=settings.timeout_s,
            max_rate_wait=settings.max_rate_wait,
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    @property
    def catalog(self) -> WorkspaceCatalog:
        """The per-process caches of teams, labels, states, projects and members."""
        if self._catalog is None:
            from tgpilot.gateways.linear.catalog import WorkspaceCatalog

            self._catalog = WorkspaceCatalog(self)
        return self._catalog

    # ------------------------------------------------------------------ requests

    async def execute(
        self, operation: str, variables: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send document ``operation`` with ``variables``; its ``data``, or a
        :class:`LinearError` after the retry policy gave up."""
        body = orjson.dumps(
            {
                "query": load_document(operation),
                "operationName": operation,
                "variables": dict(variables or {}),
            }
        )
        policy = AsyncRetrying(
            stop=stop_after_attempt(MAX_RETRIES + 1),
            wait=_Wait(self._draw),
            retry=retry_if_exception(_retryable),
            sleep=self._clock.sleep,
            reraise=True,
        )
        try:
            return await policy(self._attempt, operation, body)
        except _RateLimitPause as exc:
            raise RateLimited(exc.seconds, self.max_rate_wait, retried=True) from None

    async def mutate(
        self, operation: str, variables: Mapping[str, Any], *, field: str, entity: str
    ) -> dict[str, Any]:
        """Run a mutation and return ``data[field][entity]``; ``success: false`` or no
        entity is "Linear did not confirm <operation>"."""
        data = await self.execute(operation, variables)
        payload = data.get(field)
        if not isinstance(payload, Mapping) or payload.get("success") is False:
            raise LinearError(f"Linear did not confirm {operation}")
        result = payload.get(entity)
        if not isinstance(result, dict):
            raise LinearError(f"Linear did not confirm {operation}")
        return result

    async def paginate(
        self,
        operation: str,
        variables: Mapping[str, Any] | None = None,
        *,
        connection: str,
        limit: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """The nodes of the connection at ``connection`` (a dotted path into ``data``,
        e.g. ``"issues"`` or ``"team.labels"``), page after page, up to ``limit``.

        The document must take ``$first: Int`` and ``$after: String`` and select
        ``pageInfo { hasNextPage endCursor }`` on the connection.
        """
        after: str | None = None
        seen = 0
        while True:
            first = self.page_size if limit is None else min(self.page_size, limit - seen)
            if first <= 0:
                return
            data = await self.execute(
                operation, {**(variables or {}), "first": first, "after": after}
            )
            page = _dig(data, connection)
            for node in page.get("nodes") or ():
                yield node
                seen += 1
                if limit is not None and seen >= limit:
                    return
            info = page.get("pageInfo") or {}
            cursor = info.get("endCursor")
            if not info.get("hasNextPage") or not cursor:
                return
            after = str(cursor)

    async def create_issue(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Create an issue exactly once (spec §1.1, safe create).

        ``fields`` is an ``IssueCreateInput``; its ``id`` is kept when the caller
        reserved one, else a UUID v4 is generated. When a retried create is refused
        because that id exists, the stored issue is fetched and returned.
        """
        issue_input = dict(fields)
        issue_input.setdefault("id", str(uuid.uuid4()))
        try:
            return await self.mutate(
                "IssueCreate", {"input": issue_input}, field="issueCreate", entity="issue"
            )
        except LinearError as exc:
            if isinstance(exc, LinearAuthError | RateLimited) or not _DUPLICATE_ID.search(
                exc.message
            ):
                raise
            existing = await self.find_issue(str(issue_input["id"]))
            if existing is None:
                raise
            return existing

    async def find_issue(self, ref: str) -> dict[str, Any] | None:
        """The issue with this id or identifier (``ENG-42``), or None."""
        try:
            data = await self.execute("IssueGet", {"id": ref})
        except LinearError as exc:
            if isinstance(exc, LinearAuthError | RateLimited | LinearUnavailable):
                raise
            if is_not_found(exc):
                return None
            raise
        issue = data.get("issue")
        return issue if isinstance(issue, dict) else None

    # ------------------------------------------------------------------ plumbing

    async def _attempt(self, operation: str, body: bytes) -> dict[str, Any]:
        await self._pace()
        self.requests += 1
        try:
            response = await self._http.post(self.api_url, content=body)
        except httpx.TimeoutException:
            raise LinearUnavailable(
                f"Linear did not answer {operation} within {self.timeout_s:g} s"
            ) from None
        except httpx.TransportError as exc:
            raise LinearUnavailable(
                f"cannot reach Linear for {operation}: {type(exc).__name__}"
            ) from None
        self._note_budget(response.headers)
        return self._classify(operation, response)

    def _classify(self, operation: str, response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        excerpt = response.text[:BODY_EXCERPT]
        try:
            payload = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise _failure(
                status, f"Linear answered {status} with a non-JSON response: {excerpt}"
            ) from None
        if not isinstance(payload, dict):
            raise _failure(status, f"Linear answered {status} with a non-JSON response: {excerpt}")
        errors = [e for e in payload.get("errors") or () if isinstance(e, Mapping)]
        if errors:
            codes = tuple(_error_code(e) for e in errors)
            if "RATELIMITED" in codes:
                raise self._rate_limited(response)
            messages = "; ".join(str(e.get("message") or "unknown error") for e in errors)
            if status in (401, 403) or any(_is_auth_error(e) for e in errors):
                raise LinearAuthError(messages, status=status)
            raise _failure(status, messages, codes)
        if status in (401, 403):
            raise LinearAuthError(f"HTTP {status}", status=status)
        if not 200 <= status < 300:
            raise _failure(status, f"Linear answered {status}: {excerpt}")
        data = payload.get("data")
        if not isinstance(data, dict):
            raise LinearError(f"Linear sent an empty response to {operation}", status=status)
        return data

    def _rate_limited(self, response: httpx.Response) -> LinearError:
        """The pause to take, or :class:`RateLimited` when the reset is too far."""
        headers = response.headers
        wait = _number(headers.get("Retry-After"))
        if wait is None:
            now = self._clock.now().timestamp()
            resets = [
                _number(headers.get(name))
                for name in ("X-RateLimit-Requests-Reset", "X-RateLimit-Complexity-Reset")
            ]
            known = [r / 1000.0 - now for r in resets if r is not None]
            wait = max(known) if known else UNKNOWN_RESET_S
        wait = max(0.0, wait)
        if wait > self.max_rate_wait:
            return RateLimited(wait, self.max_rate_wait)
        return _RateLimitPause(wait)

    def _note_budget(self, headers: httpx.Headers) -> None:
        limit = _number(headers.get("X-RateLimit-Requests-Limit"))
        remaining = _number(headers.get("X-RateLimit-Requests-Remaining"))
        reset = _number(headers.get("X-RateLimit-Requests-Reset"))
        if limit is None or remaining is None or reset is None or limit <= 0:
            return
        self.budget = RateBudget(int(limit), int(remaining), reset / 1000.0)
        if remaining >= PACE_BELOW * limit:
            self._limiter = None
            return
        until = self.budget.reset_at - self._clock.now().timestamp()
        if until > 0 and (self._limiter is None or self.budget.reset_at != self._pace_until):
            self._pace_until = self.budget.reset_at
            self._limiter = AsyncLimiter(1, until / max(remaining, 1.0))

    async def _pace(self) -> None:
        if self._limiter is None:
            return
        if self._clock.now().timestamp() >= self._pace_until:
            self._limiter = None
            return
        await self._limiter.acquire()
