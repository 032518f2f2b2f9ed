"""Reading a driver's event stream, and waiting, with a time limit on every wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
import socket

from custom_components.local_doorbell.devices.base import DoorbellDevice, DoorbellEvent, EventKind

WAIT = 5.0


def free_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def wait_for(condition: Callable[[], bool], limit: float = WAIT) -> None:
    """Wait until a condition holds, failing after `limit` seconds."""
    async with asyncio.timeout(limit):
        while not condition():
            await asyncio.sleep(0.01)


class Events:
    """Reads a driver's event stream with a time limit on every wait."""

    def __init__(self, stream: AsyncIterator[DoorbellEvent]) -> None:
        self.stream = stream

    async def next(self, limit: float = WAIT) -> DoorbellEvent:
        """Return the next event, failing after `limit` seconds."""
        async with asyncio.timeout(limit):
            return await anext(self.stream)

    async def until(self, kind: EventKind, limit: float = WAIT) -> list[DoorbellEvent]:
        """Return every event up to and including the first of a kind."""
        seen: list[DoorbellEvent] = []
        async with asyncio.timeout(limit):
            while not seen or seen[-1].kind is not kind:
                seen.append(await anext(self.stream))
        return seen


@contextlib.asynccontextmanager
async def events_of(device: DoorbellDevice) -> AsyncIterator[Events]:
    """Open a device's event stream, closed on exit."""
    async with contextlib.aclosing(device.events()) as stream:
        yield Events(stream)
