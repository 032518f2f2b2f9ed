"""Reading a driver's event stream, and waiting, with a time limit on every wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
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
    """Reads a driver's events with a time limit on every wait."""

    def __init__(self, source: Callable[[], Awaitable[DoorbellEvent]]) -> None:
        self._source = source

    async def next(self, limit: float = WAIT) -> DoorbellEvent:
        """Return the next event (or raise what ended the stream), failing after `limit` s."""
        async with asyncio.timeout(limit):
            return await self._source()

    async def until(self, kind: EventKind, limit: float = WAIT) -> list[DoorbellEvent]:
        """Return every event up to and including the first of a kind."""
        seen: list[DoorbellEvent] = []
        async with asyncio.timeout(limit):
            while not seen or seen[-1].kind is not kind:
                seen.append(await self._source())
        return seen


@contextlib.asynccontextmanager
async def events_of(device: DoorbellDevice) -> AsyncIterator[Events]:
    """Open a device's event stream, read only when the test asks; closed on exit."""
    async with contextlib.aclosing(device.events()) as stream:
        yield Events(lambda: anext(stream))


@contextlib.asynccontextmanager
async def events_in_background(device: DoorbellDevice) -> AsyncIterator[Events]:
    """Read a device's events in the background, as the runtime does, until the exit.

    A driver that reconnects without a word is seen to do so only while it is read.
    """
    queue: asyncio.Queue[DoorbellEvent | BaseException] = asyncio.Queue()

    async def consume() -> None:
        try:
            async with contextlib.aclosing(device.events()) as stream:
                async for event in stream:
                    queue.put_nowait(event)
        except asyncio.CancelledError:
            raise
        except BaseException as err:  # handed to the test that reads next
            queue.put_nowait(err)

    async def take() -> DoorbellEvent:
        item = await queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    task = asyncio.create_task(consume())
    try:
        yield Events(take)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
