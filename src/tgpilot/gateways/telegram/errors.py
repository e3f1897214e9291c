"""Translation of Telethon's exceptions into tgpilot's typed errors.

Matched by exception type, never by message substrings. Flood waits never reach here
as Telethon errors: the flood policy already turned them into a wait or
:class:`~tgpilot.core.errors.FloodWaitTooLong`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager

from telethon import errors
from telethon.errors import rpcerrorlist

from tgpilot.core.errors import NetworkError, NotAuthorized, TelegramError
from tgpilot.gateways.telegram.flood import request_name

_NAMES_BY_CLASS: dict[type, str] = {cls: name for name, cls in rpcerrorlist.rpc_errors_dict.items()}
_PATTERNS_BY_CLASS: dict[type, str] = {cls: pattern for pattern, cls in rpcerrorlist.rpc_errors_re}


def rpc_name(exc: errors.RPCError) -> str:
    """Telegram's own name for an RPC error (``CHANNEL_PRIVATE``, ``FLOOD_WAIT_30``)."""
    cls = type(exc)
    if cls in _NAMES_BY_CLASS:
        return _NAMES_BY_CLASS[cls]
    if cls in _PATTERNS_BY_CLASS:
        pattern = _PATTERNS_BY_CLASS[cls]
        capture = getattr(exc, "seconds", None) or getattr(exc, "new_dc", None) or ""
        return re.sub(r"\(.*\)", str(capture), pattern).strip("^$")
    return str(exc.message)


@contextmanager
def telegram_errors(session_path: str) -> Iterator[None]:
    """Re-raise Telethon RPC and connection errors as tgpilot errors."""
    try:
        yield
    except (errors.AuthKeyUnregisteredError, errors.SessionRevokedError) as exc:
        raise NotAuthorized(session_path) from exc
    except errors.UserDeactivatedError as exc:
        raise TelegramError("USER_DEACTIVATED", request_name(exc.request)) from exc
    except errors.RPCError as exc:
        raise TelegramError(rpc_name(exc), request_name(exc.request)) from exc
    except (ConnectionError, TimeoutError, asyncio.IncompleteReadError) as exc:
        raise NetworkError(
            f"could not reach Telegram: {exc}", hint="check the network and rerun"
        ) from exc
