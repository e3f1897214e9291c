"""Sending an SDK's requests for a public endpoint to the fake server instead.

Some behaviour depends on the endpoint itself (OpenAI's official API gets
``max_completion_tokens``). :class:`LoopbackTransport` lets the SDK build its request
for ``https://api.openai.com/v1/...`` unchanged, then delivers it over real HTTP to the
fake server on loopback — the only place a test may connect to. The ``Host`` header
keeps the original host, so the log shows where the request was meant to go.
"""

from __future__ import annotations

import httpx2


class LoopbackTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport that rewrites every URL to ``http://127.0.0.1:<port>``."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
