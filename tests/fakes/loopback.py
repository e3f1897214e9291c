"""An aiohttp application served on a free loopback port from a background thread.

Fakes that speak HTTP (Linear's GraphQL endpoint, the LLM providers) run their server
in a thread with its own event loop, so they serve async tests, the synchronous CLI
harness and benchmarks alike. Subclasses build the application in
:meth:`LoopbackServer.build_app`; ``with server:`` starts and stops it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from types import TracebackType
from typing import Self

from aiohttp import web

START_TIMEOUT_S = 10.0


class LoopbackServer:
    """Serves :meth:`build_app` on ``127.0.0.1:<port>`` while started."""

    thread_name = "fake-loopback-server"

    def __init__(self) -> None:
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    def build_app(self) -> web.Application:
        """The application to serve (subclasses add their routes)."""
        raise NotImplementedError

    def start(self) -> None:
        """Serve on a free loopback port (returns once it accepts connections)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def serve() -> None:
            runner = web.AppRunner(self.build_app(), shutdown_timeout=0.5)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            self._runner = runner
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(serve())
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT_S):
            raise RuntimeError(f"{self.thread_name} did not start")

    def stop(self) -> None:
        """Stop serving and join the thread."""
        loop, runner, thread = self._loop, self._runner, self._thread
        if loop is None or thread is None:
            return
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(START_TIMEOUT_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(START_TIMEOUT_S)
        self._loop = self._runner = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
