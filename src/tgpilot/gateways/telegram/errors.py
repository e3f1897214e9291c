"""Translation of Telethon's exceptions into tgpilot's typed errors.

Matched by exception type, never by message substrings. Flood waits never reach here
as Telethon errors: the flood policy already turned them into a wait or
:class:`~tgpilot.core.errors.FloodWaitTooLong`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from telethon import errors

from tgpilot.core.errors import NetworkError, NotAuthorized, TelegramError
from tgpilot.gateways.telegram.flood import request_name


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
        raise TelegramError(str(exc.message), request_name(exc.request)) from exc
    except (ConnectionError, TimeoutError, asyncio.IncompleteReadError) as exc:
        raise NetworkError(
            f"could not reach Telegram: {exc}", hint="check the network and rerun"
        ) from exc
