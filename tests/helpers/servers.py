"""Small HTTP servers on loopback, for devices that answer the way a test needs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from typing import Any

from aiohttp import web

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# What a snapshot request can get that is no picture: keyword arguments of web.Response.
NOT_A_PICTURE: list[dict[str, Any]] = [
    {"body": b"<html>not a picture</html>"},
    {"status": 500},
    {"status": 302, "headers": {"Location": "http://127.0.0.1:1/elsewhere"}},  # never followed
    {"status": 404},
]


@contextlib.asynccontextmanager
async def serving(handler: Handler, path: str = "/{tail:.*}") -> AsyncIterator[int]:
    """Answer every request to `path` (any path by default) with `handler`; yield the port."""
    app = web.Application()
    app.router.add_route("*", path, handler)
    # Streaming answers hold their connections until the client goes: close them at once.
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()
