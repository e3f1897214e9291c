"""The handler registry: which function answers which TL request type.

A handler is ``func(ctx, request) -> result`` where ``result`` is a TL object, a list
of them (a ``Vector``), a bool, or pre-encoded ``bytes``. Register it with::

    @handles(functions.messages.GetHistoryRequest)
    def get_history(ctx: Context, req: functions.messages.GetHistoryRequest) -> ...:

``auth=False`` marks requests allowed before login (``auth.sendCode``, ``help.getConfig``).
Handlers raise :class:`~tests.fakes.telegram.errors.RpcFail` for RPC errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from tests.fakes.telegram.errors import RpcFail
from tests.fakes.telegram.render import Renderer

if TYPE_CHECKING:
    from tests.fakes.telegram.sender import FakeSender
    from tests.fakes.telegram.world import FakeTelegram

Handler = Callable[["Context", Any], Any]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class HandlerSpec:
    """A registered handler and whether it needs a logged-in auth key."""

    func: Handler
    auth: bool


HANDLERS: dict[type, HandlerSpec] = {}


def handles(*request_types: type, auth: bool = True) -> Callable[[H], H]:
    """Register the decorated function as the answer to ``request_types``."""

    def register(func: H) -> H:
        for request_type in request_types:
            if request_type in HANDLERS:
                raise ValueError(f"{request_type.__name__} already has a handler")
            HANDLERS[request_type] = HandlerSpec(func=func, auth=auth)
        return func

    return register


@dataclass
class Context:
    """Everything a handler may need about the request being answered."""

    world: FakeTelegram
    sender: FakeSender | None
    key_id: int | None
    server: tuple[str, int] | None
    dc_id: int
    now: datetime
    request: Any
    outer: Any

    @property
    def user_id(self) -> int | None:
        """The user this auth key is logged in as, or None."""
        return self.world.authorized_user(self.key_id, self.server)

    def me(self) -> int:
        """The logged-in user (handlers registered with ``auth=True`` always have one)."""
        user = self.user_id
        if user is None:
            raise RpcFail("AUTH_KEY_UNREGISTERED", 401)
        return user

    def renderer(self) -> Renderer:
        """A renderer for this answer, as the logged-in user sees the world."""
        return Renderer(self.world, self.user_id, self.dc_id)
