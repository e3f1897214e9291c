"""``FakeSender``: stands in for Telethon's ``MTProtoSender`` (``client._sender``).

It offers the interface ``TelegramClient`` uses — ``connect(connection)``,
``send(request, ordered=False)`` returning a future (a list of them for a list),
``disconnect()``, ``is_connected()``, the ``disconnected`` future, ``auth_key`` and
``_connection`` — and answers from a :class:`~tests.fakes.telegram.world.FakeTelegram`
instead of the network. Answers arrive on a later event-loop turn, like real ones, and
RPC errors are raised in the future via ``telethon.errors.rpc_message_to_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from telethon import utils
from telethon.crypto import rsa
from telethon.errors import rpc_message_to_error
from telethon.network.mtprotosender import MTProtoSender
from telethon.tl import functions, types

from .errors import RpcFail
from .model import ConnectionRecord
from .server import InjectedDisconnect, serve

if TYPE_CHECKING:
    from telethon import TelegramClient

    from tgpilot.core.clock import Clock

    from .world import FakeTelegram


class FakeSender:
    """A connection to the fake world for one ``TelegramClient``."""

    def __init__(self, world: FakeTelegram, client: TelegramClient, clock: Clock | None = None):
        real = client._sender
        self._world = world
        self._clock = clock
        self.auth_key = real.auth_key
        self._updates_queue: asyncio.Queue[Any] = client._updates_queue
        self._auth_key_callback = client._auth_key_callback
        self._connection: Any = None
        self._user_connected = False
        self._reconnecting = False
        self._ping: int | None = None
        self.__disconnected: asyncio.Future[None] | None = None
        self._pending: dict[asyncio.Future[Any], asyncio.Handle] = {}
        self.record: ConnectionRecord | None = None
        self.dc_id = 2
        self.server: tuple[str, int] | None = None

    # the MTProtoSender interface ------------------------------------------------------

    async def connect(self, connection: Any) -> bool:
        """Connect "to" ``connection``'s address; False if already connected."""
        if self._user_connected:
            return False
        await asyncio.sleep(0)
        rule = self._world.faults.check("connect")
        if rule is not None:
            raise ConnectionError(
                f"Connection to Telegram failed (injected: {rule.error or 'disconnect'})"
            )
        self._connection = connection
        self.server = (connection._ip, connection._port)
        self.dc_id = connection._dc_id
        if not self.auth_key:
            # A fresh auth key, as the DH exchange would produce (never reused across runs).
            self.auth_key.key = os.urandom(256)
            if self._auth_key_callback:
                await self._auth_key_callback(self.auth_key)
        self.record = ConnectionRecord(
            ip=connection._ip,
            port=connection._port,
            dc_id=connection._dc_id,
            auth_key_id=self.key_id,
            rsa_fingerprints=tuple(rsa._server_keys),
        )
        self._world.connections.append(self.record)
        self._user_connected = True
        loop = asyncio.get_running_loop()
        if self.__disconnected is None or self.__disconnected.done():
            self.__disconnected = loop.create_future()
        self._world.attach(self)
        return True

    def is_connected(self) -> bool:
        return self._user_connected

    def _transport_connected(self) -> bool:
        return self._user_connected and not self._reconnecting

    async def disconnect(self) -> None:
        """Disconnect cleanly: pending requests are cancelled."""
        self._close(None)
        await asyncio.sleep(0)

    def send(self, request: Any, ordered: bool = False) -> Any:
        """Queue ``request`` (or a list); returns its future (or a list of futures)."""
        if not self._user_connected:
            raise ConnectionError("Cannot send requests while disconnected")
        if utils.is_list_like(request):
            return [self._enqueue(r) for r in request]
        return self._enqueue(request)

    @property
    def disconnected(self) -> asyncio.Future[None]:
        """A future that resolves when the connection ends."""
        return asyncio.shield(self._disconnected)

    @property
    def _disconnected(self) -> asyncio.Future[None]:
        if self.__disconnected is None:
            self.__disconnected = asyncio.get_running_loop().create_future()
            self.__disconnected.set_result(None)
        return self.__disconnected

    def _keepalive_ping(self, rnd_id: int) -> None:
        if self._ping is None:
            self._ping = rnd_id
            self.send(functions.PingRequest(rnd_id))

    # fake-specific ---------------------------------------------------------------------

    @property
    def key_id(self) -> int | None:
        return self.auth_key.key_id if self.auth_key else None

    def now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    def record_init(self, request: functions.InitConnectionRequest) -> None:
        """Remember the ``initConnection`` parameters on this connection's record."""
        if self.record is not None:
            self.record.init = {
                "api_id": request.api_id,
                "device_model": request.device_model,
                "system_version": request.system_version,
                "app_version": request.app_version,
                "system_lang_code": request.system_lang_code,
                "lang_pack": request.lang_pack,
                "lang_code": request.lang_code,
            }

    def push_update(self, update: Any) -> None:
        """Deliver an ``Updates`` object to the client, as an unsolicited server push."""
        self._updates_queue.put_nowait(update)

    def drop(self, error: Exception | None = None) -> None:
        """Lose the connection (as after a failed automatic reconnect)."""
        self._close(error or ConnectionError("connection lost"))

    # internals -------------------------------------------------------------------------

    def _enqueue(self, request: Any) -> asyncio.Future[Any]:
        bytes(request)  # serialise like RequestState does: bad arguments fail here
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending[future] = loop.call_soon(self._answer, request, future)
        return future

    def _answer(self, request: Any, future: asyncio.Future[Any]) -> None:
        self._pending.pop(future, None)
        if future.done():
            return
        try:
            result = serve(self._world, self, request)
        except RpcFail as e:
            future.set_exception(rpc_message_to_error(types.RpcError(e.code, e.message), request))
        except InjectedDisconnect as e:
            error = ConnectionError("Connection to Telegram lost (injected fault)")
            future.set_exception(error)
            if e.drop:
                self._close(error)
        except Exception as e:  # a bug in the fake, or FakeNotImplementedError
            future.set_exception(e)
        else:
            if isinstance(result, types.Pong):
                self._ping = None
            MTProtoSender._store_own_updates(self, result)
            future.set_result(result)

    def _close(self, error: Exception | None) -> None:
        self._user_connected = False
        self._ping = None
        for future, handle in list(self._pending.items()):
            handle.cancel()
            if not future.done():
                if error is not None:
                    future.set_exception(error)
                else:
                    future.cancel()
        self._pending.clear()
        self._world.detach(self)
        self._connection = None
        fut = self.__disconnected
        if fut is not None and not fut.done():
            if error is not None:
                fut.set_exception(error)
                # Nobody may await it; don't let asyncio log "exception never retrieved".
                with contextlib.suppress(BaseException):
                    fut.exception()
            else:
                fut.set_result(None)
