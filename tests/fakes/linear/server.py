"""A fake Linear GraphQL endpoint: a real HTTP server on loopback that our client calls.

:class:`FakeLinear` is a :class:`~tests.fakes.loopback.LoopbackServer` (aiohttp in a
background thread), so it serves async tests, the synchronous CLI harness and benchmarks
alike. ``POST /graphql``
validates the document against Linear's published schema and executes it over
:attr:`FakeLinear.workspace` (:mod:`tests.fakes.linear.graph`).

- Every request is logged in :attr:`FakeLinear.requests` (operation name, variables,
  headers, virtual time); :meth:`FakeLinear.operations` lists the names.
- Every answer carries ``X-RateLimit-Requests-Limit/-Remaining/-Reset`` (reset in epoch
  milliseconds); set :attr:`rate_limit` / :attr:`remaining` / :attr:`reset_in` to script
  the budget.
- :meth:`FakeLinear.fail` scripts faults (:class:`Fault`): an HTTP status with a body,
  a non-JSON body, a GraphQL error, ``RATELIMITED`` with a reset, a create stored and
  then answered too late (a client timeout), ``success: false``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web
from graphql import graphql_sync, parse, validate
from graphql.error import GraphQLSyntaxError

from tests.fakes.clock import FakeClock
from tests.fakes.linear.graph import Resolvers, linear_schema
from tests.fakes.linear.workspace import Workspace
from tests.fakes.loopback import LoopbackServer

FaultKind = Literal["http", "error", "ratelimited", "late", "unconfirmed"]


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour; build with the class methods."""

    kind: FaultKind
    status: int = 200
    body: str = ""
    message: str = ""
    code: str | None = None
    reset_in: float = 0.0
    retry_after: float | None = None
    delay_s: float = 0.0
    field: str = ""

    @classmethod
    def http(cls, status: int, body: str) -> Fault:
        """Answer ``status`` with ``body`` as text (not JSON)."""
        return cls("http", status=status, body=body)

    @classmethod
    def error(cls, message: str, *, code: str | None = None, status: int = 200) -> Fault:
        """A GraphQL ``errors`` answer with no data."""
        return cls("error", status=status, message=message, code=code)

    @classmethod
    def rate_limited(cls, reset_in: float, *, retry_after: float | None = None) -> Fault:
        """``RATELIMITED`` (HTTP 400), the budget resetting ``reset_in`` seconds from now."""
        return cls("ratelimited", status=400, reset_in=reset_in, retry_after=retry_after)

    @classmethod
    def late(cls, delay_s: float) -> Fault:
        """Execute (store) the request, then hold the answer ``delay_s`` real seconds."""
        return cls("late", delay_s=delay_s)

    @classmethod
    def unconfirmed(cls, mutation_field: str) -> Fault:
        """``{<field>: {success: false, …: null}}`` without touching the workspace."""
        return cls("unconfirmed", field=mutation_field)


@dataclass
class _Scripted:
    fault: Fault
    times: int | None
    operation: str | None


@dataclass(frozen=True)
class LinearRequest:
    """One request as the fake received it."""

    operation: str | None
    variables: dict[str, Any]
    query: str
    headers: dict[str, str]
    """Header names in lower case."""
    at: float


@dataclass
class _Answer:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class FakeLinear(LoopbackServer):
    """Linear's GraphQL API on ``http://127.0.0.1:<port>/graphql``."""

    thread_name = "fake-linear"

    def __init__(
        self, *, clock: FakeClock | None = None, workspace: Workspace | None = None
    ) -> None:
        super().__init__()
        self.clock = clock
        self.workspace = workspace or Workspace(now=self._wall_time)
        self.requests: list[LinearRequest] = []
        self.rate_limit = 1500
        self.remaining = 1500
        self.reset_in = 3600.0
        self._faults: list[_Scripted] = []
        self._lock = threading.Lock()
        linear_schema()

    # ------------------------------------------------------------------ control

    @property
    def url(self) -> str:
        """The GraphQL endpoint (``linear.api_url``)."""
        return f"http://127.0.0.1:{self.port}/graphql"

    def fail(self, fault: Fault, *, times: int | None = 1, operation: str | None = None) -> None:
        """Answer the next ``times`` requests (``None``: all) with ``fault``, only those
        of ``operation`` when given."""
        with self._lock:
            self._faults.append(_Scripted(fault, times, operation))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def operations(self) -> list[str | None]:
        """The operation names received, in order."""
        with self._lock:
            return [r.operation for r in self.requests]

    def requests_of(self, operation: str) -> list[LinearRequest]:
        with self._lock:
            return [r for r in self.requests if r.operation == operation]

    def env(self, key: str = "lin_api_test_key") -> dict[str, str]:
        """Environment variables pointing tgpilot at this fake with an API key."""
        return {"TGPILOT_LINEAR__API_URL": self.url, "LINEAR_API_KEY": key}

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/graphql", self._handle)
        return app

    # ------------------------------------------------------------------ plumbing

    def _wall_time(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(UTC)

    def _monotonic(self) -> float:
        return self.clock.monotonic() if self.clock is not None else time.monotonic()

    def _take_fault(self, operation: str | None) -> Fault | None:
        for scripted in self._faults:
            if scripted.operation is not None and scripted.operation != operation:
                continue
            if scripted.times is not None:
                scripted.times -= 1
                if scripted.times <= 0:
                    self._faults.remove(scripted)
            return scripted.fault
        return None

    def _budget_headers(self, reset_in: float | None = None) -> dict[str, str]:
        reset = self._wall_time().timestamp() + (self.reset_in if reset_in is None else reset_in)
        return {
            "X-RateLimit-Requests-Limit": str(self.rate_limit),
            "X-RateLimit-Requests-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Requests-Reset": str(int(reset * 1000)),
        }

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        answer = self._answer(body, {k.lower(): v for k, v in request.headers.items()})
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        return web.Response(
            status=answer.status,
            text=answer.body,
            headers=answer.headers,
            content_type="application/json" if answer.body.startswith("{") else "text/plain",
        )

    def _answer(self, body: dict[str, Any], headers: dict[str, str]) -> _Answer:
        query = str(body.get("query") or "")
        variables = body.get("variables") or {}
        operation = body.get("operationName")
        with self._lock:
            self.requests.append(
                LinearRequest(operation, dict(variables), query, headers, self._monotonic())
            )
            self.remaining -= 1
            fault = self._take_fault(operation)
            delay = 0.0
            if fault is not None and fault.kind != "late":
                return self._faulted(fault)
            if fault is not None:
                delay = fault.delay_s
            status, payload = self._execute(query, variables, operation)
            return _Answer(status, json.dumps(payload), self._budget_headers(), delay)

    def _faulted(self, fault: Fault) -> _Answer:
        headers = self._budget_headers()
        if fault.kind == "http":
            return _Answer(fault.status, fault.body, headers)
        if fault.kind == "error":
            error: dict[str, Any] = {"message": fault.message}
            if fault.code:
                error["extensions"] = {"code": fault.code}
            return _Answer(fault.status, json.dumps({"errors": [error]}), headers)
        if fault.kind == "ratelimited":
            headers = self._budget_headers(reset_in=fault.reset_in)
            headers["X-RateLimit-Requests-Remaining"] = "0"
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            error = {
                "message": "Rate limit exceeded",
                "extensions": {"code": "RATELIMITED", "type": "ratelimited"},
            }
            return _Answer(fault.status, json.dumps({"errors": [error]}), headers)
        payload = {"data": {fault.field: {"success": False, "lastSyncId": 0}}}
        return _Answer(200, json.dumps(payload), headers)

    def _execute(
        self, query: str, variables: dict[str, Any], operation: str | None
    ) -> tuple[int, dict[str, Any]]:
        schema = linear_schema()
        try:
            document = parse(query)
        except GraphQLSyntaxError as exc:
            return 400, {"errors": [exc.formatted]}
        problems = validate(schema, document)
        if problems:
            return 400, {
                "errors": [
                    {**p.formatted, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}
                    for p in problems
                ]
            }
        result = graphql_sync(
            schema,
            query,
            root_value=Resolvers(self.workspace).root(),
            variable_values=variables,
            operation_name=operation,
        )
        payload: dict[str, Any] = {}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
            payload["data"] = None
        else:
            payload["data"] = result.data
        return 200, payload
