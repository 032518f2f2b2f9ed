"""What every vendor's event service does alike: the stall fault, the client counters and streams.

Dahua's event stream and DoorBird's monitor stream are alike: each client holds one multipart HTTP
answer that a queue feeds; ONVIF's PullPoint subscriptions are counted and stalled only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import hdrs, web

from .state import DeviceState

type Write = Callable[[bytes], Awaitable[None]]


class EventClients:
    """Counts a device's event clients and holds their streams while the device stalls."""

    def __init__(self, state: DeviceState) -> None:
        """Start flowing, with no clients counted."""
        self._state = state
        self._flowing = asyncio.Event()
        self._flowing.set()

    def stall(self, stalled: bool) -> None:
        """Stop or resume every stream; a stalled device keeps sockets open, sending nothing."""
        self._state.faults.stall_events = stalled
        if stalled:
            self._flowing.clear()
        else:
            self._flowing.set()

    def _count(self, clients: int, *, attached: bool = False) -> None:
        """Record how many clients there are now; `attached`: one more has come."""
        self._state.counters.event_clients = clients
        if attached:
            self._state.counters.event_clients_total += 1


@dataclass(eq=False, slots=True)
class StreamClient:
    """One client of a multipart stream: the chunks waiting for its writer (None closes it)."""

    queue: asyncio.Queue[bytes | None] = field(
        default_factory=lambda: asyncio.Queue(256), kw_only=True
    )

    def offer(self, chunk: bytes | None) -> None:
        """Queue a chunk; a client too slow to take 256 loses the oldest."""
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(chunk)


class StreamHub[C: StreamClient](EventClients):
    """The clients of a multipart event stream, each answered by `serve()`."""

    def __init__(self, state: DeviceState) -> None:
        """Start with no clients."""
        super().__init__(state)
        self.clients: set[C] = set()

    def _add(self, client: C) -> C:
        """Register a client."""
        self.clients.add(client)
        self._count(len(self.clients), attached=True)
        return client

    def detach(self, client: C) -> None:
        """Forget a client."""
        self.clients.discard(client)
        self._count(len(self.clients))

    def send_raw(self, data: bytes) -> None:
        """Queue raw bytes (garbage) for every client."""
        for client in self.clients:
            client.offer(data)

    def drop_all(self) -> None:
        """Ask every client's writer to close its connection."""
        for client in self.clients:
            client.offer(None)

    async def serve(
        self,
        request: web.Request,
        client: C,
        boundary: str,
        stream: Callable[[Write], Awaitable[None]],
    ) -> web.StreamResponse:
        """Answer an attached client with the parts `stream` writes; detach it when it ends.

        The caller attaches before this answers: a client that has seen the 200 must not miss
        the next event.
        """
        response = web.StreamResponse(
            headers={hdrs.CONTENT_TYPE: f"multipart/x-mixed-replace; boundary={boundary}"}
        )
        response.force_close()
        try:
            await response.prepare(request)
            await stream(response.write)
        except ConnectionError:
            pass
        finally:
            self.detach(client)
        if request.transport is not None:
            request.transport.close()
        return response
