"""The fake server's request pipeline: unwrap, count, inject faults, authorise, answer.

Every answer goes through the wire format: the handler's TL result is serialised to
bytes and read back with the request's own ``read_result``, as Telethon reads a real
``rpc_result``. That catches malformed answers (a missing required field, a wrong
type) in the fake instead of letting them leak into tests as impossible objects.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from telethon.extensions import BinaryReader
from telethon.tl import TLObject, functions

from . import handlers
from .errors import FakeNotImplementedError, RpcFail
from .faults import qualified_name
from .handlers.registry import HANDLERS, Context

if TYPE_CHECKING:
    from .sender import FakeSender
    from .world import FakeTelegram

_VECTOR = 0x1CB5C415
_BOOL_TRUE = 0x997275B5
_BOOL_FALSE = 0xBC799737

#: Requests that wrap another (``query``); the inner one is what gets answered.
WRAPPERS: tuple[type, ...] = (
    functions.InvokeWithLayerRequest,
    functions.InitConnectionRequest,
    functions.InvokeWithoutUpdatesRequest,
    functions.InvokeAfterMsgRequest,
    functions.InvokeAfterMsgsRequest,
    functions.InvokeWithMessagesRangeRequest,
    functions.InvokeWithTakeoutRequest,
)

handlers.load_all()


class InjectedDisconnect(Exception):
    """A fault rule says this request loses the connection."""

    def __init__(self, drop: bool) -> None:
        super().__init__("connection lost (injected fault)")
        self.drop = drop


def unwrap(request: Any, sender: FakeSender | None = None) -> Any:
    """The innermost request; ``initConnection`` parameters are recorded on the way."""
    while isinstance(request, WRAPPERS):
        if isinstance(request, functions.InitConnectionRequest) and sender is not None:
            sender.record_init(request)
        request = request.query
    return request


def serve(world: FakeTelegram, sender: FakeSender | None, outer: Any) -> Any:
    """Answer one request as the server would; raises ``RpcFail``/``InjectedDisconnect``."""
    inner = unwrap(outer, sender)
    name = type(inner).__name__
    qualified = qualified_name(type(inner))
    world.record_request(name, qualified)
    rule = world.faults.check(name, qualified)
    if rule is not None:
        if rule.action == "disconnect":
            raise InjectedDisconnect(rule.drop)
        raise RpcFail(rule.error, rule.code)
    spec = HANDLERS.get(type(inner))
    if spec is None:
        world.unhandled.append(name)
        raise FakeNotImplementedError(outer, name)
    ctx = Context(
        world=world,
        sender=sender,
        key_id=sender.key_id if sender else None,
        server=sender.server if sender else None,
        dc_id=sender.dc_id if sender else 2,
        now=sender.now() if sender else datetime.now(UTC),
        request=inner,
        outer=outer,
    )
    if spec.auth and ctx.user_id is None:
        raise RpcFail("AUTH_KEY_UNREGISTERED", 401)
    result = spec.func(ctx, inner)
    answer = roundtrip(inner, result)
    if world.on_served is not None:
        world.on_served(qualified)
    return answer


def encode(value: Any) -> bytes:
    """Serialise a handler's result as Telegram would put it on the wire."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bool):
        return struct.pack("<I", _BOOL_TRUE if value else _BOOL_FALSE)
    if isinstance(value, TLObject):
        return bytes(value)
    if isinstance(value, list):
        if any(isinstance(x, int) and not isinstance(x, bool) for x in value):
            raise TypeError("encode Vector<int>/Vector<long> results with encode_int_vector()")
        return struct.pack("<Ii", _VECTOR, len(value)) + b"".join(encode(x) for x in value)
    raise TypeError(f"cannot encode a {type(value).__name__} answer")


def encode_int_vector(values: list[int], *, long: bool = False) -> bytes:
    """A ``Vector<int>`` (or ``Vector<long>``) answer, pre-encoded."""
    fmt = "<q" if long else "<i"
    return struct.pack("<Ii", _VECTOR, len(values)) + b"".join(struct.pack(fmt, v) for v in values)


def roundtrip(request: Any, result: Any) -> Any:
    """Encode ``result`` and decode it with ``request.read_result`` (fresh objects)."""
    with BinaryReader(encode(result)) as reader:
        return request.read_result(reader)
