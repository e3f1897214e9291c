"""RPC errors as the fake server raises them.

Handlers raise :class:`RpcFail`; the fake sender turns it into Telethon's own exception
with ``telethon.errors.rpc_message_to_error(types.RpcError(code, message), request)``,
exactly as the real ``MTProtoSender`` does for an ``rpc_error`` answer.
"""

from __future__ import annotations

import re

from telethon.errors import RPCError

_FLOOD_RE = re.compile(r"^(FLOOD_WAIT|SLOWMODE_WAIT|FLOOD_PREMIUM_WAIT|FLOOD_TEST_PHONE_WAIT)_\d+$")

#: Error messages Telegram sends with a code other than 400.
_KNOWN_CODES: dict[str, int] = {
    "AUTH_KEY_UNREGISTERED": 401,
    "AUTH_KEY_INVALID": 401,
    "AUTH_KEY_PERM_EMPTY": 401,
    "SESSION_PASSWORD_NEEDED": 401,
    "SESSION_REVOKED": 401,
    "SESSION_EXPIRED": 401,
    "USER_DEACTIVATED": 401,
    "USER_DEACTIVATED_BAN": 401,
    "CHAT_WRITE_FORBIDDEN": 403,
    "CHAT_ADMIN_REQUIRED": 400,
    "MESSAGE_DELETE_FORBIDDEN": 403,
    "PREMIUM_ACCOUNT_REQUIRED": 403,
    "USER_PRIVACY_RESTRICTED": 403,
    "INTERNAL": 500,
    "RPC_CALL_FAIL": 500,
    "TIMEOUT": 500,
}


def error_code_for(message: str) -> int:
    """The RPC error code Telegram pairs with ``message``.

    ``FLOOD_WAIT_N``, ``SLOWMODE_WAIT_N`` and ``FLOOD_PREMIUM_WAIT_N`` are 420, the
    authorisation family 401, a few others as Telegram documents them, the rest 400.
    """
    if _FLOOD_RE.match(message):
        return 420
    return _KNOWN_CODES.get(message, 400)


class RpcFail(Exception):
    """Raised by a handler to answer with ``rpc_error#2144ca19 error_code error_message``."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = error_code_for(message) if code is None else code


class FakeNotImplementedError(RPCError, NotImplementedError):
    """The fake has no handler for this request: add one under ``handlers/``.

    Both an ``RPCError`` (so code paths treating errors generically still run) and a
    ``NotImplementedError`` (so a test can tell a missing fake feature apart).
    """

    def __init__(self, request: object, name: str) -> None:
        message = f"FAKE_TELEGRAM_NOT_IMPLEMENTED: {name}"
        super().__init__(request=request, message=message, code=501)
        self.request_name = name

    def __reduce__(self) -> tuple[type[FakeNotImplementedError], tuple[object, str]]:
        return type(self), (self.request, self.request_name)

    def __str__(self) -> str:
        return (
            f"the fake Telegram has no handler for {self.request_name}; add one in "
            "tests/fakes/telegram/handlers/ (register it with @handles)"
        )
