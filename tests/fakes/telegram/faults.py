"""Fault injection: make chosen requests fail with an RPC error or a dropped connection.

    world.faults.fail("GetHistoryRequest", nth=2, error="FLOOD_WAIT_3")
    world.faults.fail("SendReactionRequest", every=3, error="FLOOD_WAIT_30")
    world.faults.fail("*", probability=0.05, error="RPC_CALL_FAIL")   # seeded RNG
    world.faults.disconnect("GetHistoryRequest", nth=1)

Occurrences are counted per rule from the moment the rule is added. A request name is
the class name of the unwrapped request (``"GetHistoryRequest"``; the ``Request``
suffix may be omitted; ``"channels.GetMessages"`` names one namespace's request; ``"*"``
matches every request; ``"connect"`` matches the sender's ``connect()``).
``FLOOD_WAIT_N``, ``SLOWMODE_WAIT_N`` and ``FLOOD_PREMIUM_WAIT_N`` get code 420, others
400 unless ``code`` is given.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from .errors import error_code_for

CONNECT = "connect"


def normalise_name(name: str | type) -> str:
    """``GetHistory``, ``GetHistoryRequest`` or the class itself → ``GetHistoryRequest``.

    A namespace-qualified name (``channels.GetMessages``) stays qualified.
    """
    if isinstance(name, type):
        name = qualified_name(name)
    if name in ("*", CONNECT) or name.endswith("Request"):
        return name
    return name + "Request"


def qualified_name(request_type: type) -> str:
    """``channels.GetMessagesRequest``: the TL namespace and class of a request type."""
    module = request_type.__module__.rsplit(".", 1)[-1]
    return request_type.__name__ if module == "functions" else f"{module}.{request_type.__name__}"


@dataclass
class FaultRule:
    """One injected fault: which requests, when, and what happens."""

    request: str
    action: Literal["error", "disconnect"]
    error: str = ""
    code: int = 400
    nth: int | None = None
    every: int | None = None
    probability: float | None = None
    times: int | None = None
    drop: bool = True
    seen: int = 0
    fired: int = 0

    def matches(self, name: str, qualified: str | None = None) -> bool:
        return self.request in ("*", name, qualified)

    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def decide(self, rng: random.Random) -> bool:
        """Count one matching request; True if the fault fires on it."""
        self.seen += 1
        if self.exhausted():
            return False
        if self.nth is not None:
            hit = self.seen == self.nth
        elif self.every is not None:
            hit = self.seen % self.every == 0
        elif self.probability is not None:
            hit = rng.random() < self.probability
        else:
            hit = True
        if hit:
            self.fired += 1
        return hit


class Faults:
    """The world's fault rules; the fake sender consults them for every request."""

    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self._rng = random.Random(seed)

    def fail(
        self,
        request: str | type,
        *,
        error: str = "FLOOD_WAIT_3",
        code: int | None = None,
        nth: int | None = None,
        every: int | None = None,
        probability: float | None = None,
        times: int | None = None,
    ) -> FaultRule:
        """Answer matching requests with RPC error ``error``.

        Exactly one of ``nth`` (only the nth occurrence), ``every`` (every k-th) or
        ``probability`` (seeded) may be given; none means every occurrence. ``times``
        caps how often the rule fires (``nth`` fires once by nature).
        """
        self._check_when(nth, every, probability)
        rule = FaultRule(
            request=normalise_name(request),
            action="error",
            error=error,
            code=error_code_for(error) if code is None else code,
            nth=nth,
            every=every,
            probability=probability,
            times=times,
        )
        self.rules.append(rule)
        return rule

    def disconnect(
        self,
        request: str | type,
        *,
        nth: int | None = None,
        every: int | None = None,
        probability: float | None = None,
        times: int | None = None,
        drop: bool = True,
    ) -> FaultRule:
        """Fail matching requests with ``ConnectionError``, as a lost connection does.

        With ``drop`` (the default) the sender also ends up disconnected, as the real
        one does once its automatic reconnection fails: later requests raise
        ``ConnectionError`` until the client connects again. ``drop=False`` fails only
        the request itself.
        """
        self._check_when(nth, every, probability)
        rule = FaultRule(
            request=normalise_name(request),
            action="disconnect",
            nth=nth,
            every=every,
            probability=probability,
            times=times,
            drop=drop,
        )
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule."""
        self.rules.clear()

    def check(self, name: str, qualified: str | None = None) -> FaultRule | None:
        """The rule that fires for this occurrence of request ``name``, if any.

        ``qualified`` is the namespaced name (``channels.GetMessagesRequest``). Every
        matching rule counts the occurrence; the first one that fires wins.
        """
        fired: FaultRule | None = None
        for rule in self.rules:
            if rule.matches(name, qualified) and rule.decide(self._rng) and fired is None:
                fired = rule
        return fired

    @staticmethod
    def _check_when(nth: int | None, every: int | None, probability: float | None) -> None:
        given = [x for x in (nth, every, probability) if x is not None]
        if len(given) > 1:
            raise ValueError("give at most one of nth=, every=, probability=")
        if nth is not None and nth < 1:
            raise ValueError("nth counts from 1")
        if every is not None and every < 1:
            raise ValueError("every must be >= 1")
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
