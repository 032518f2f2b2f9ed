"""The Dahua event stream: multipart parts, firmware quirks and fan-out to every client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .event_clients import EventClients
from .state import DeviceState

BOUNDARY = "myboundary"
HEARTBEAT = "Heartbeat"
STRAY_HTTP_LINE = b"HTTP/1.1 200 OK\r\n\r\n"
GARBAGE = (
    b"\x00\xff\xfe garbage \x81\x82\r\n",
    b"--myboundary\r\nContent-Type: text/plain\r\nContent-Length:oops\r\n\r\nCode=\r\n",
    b"--myboundary\r\nContent-Type: text/plain\r\nContent-Length:40\r\n\r\n"
    b"Code=VideoMotion;action=Start;data={bad\r\n",
    b"--myboundary\r\nContent-Type: text/plain\r\n\r\nNot an event at all\r\n",
)


def event_code(body: str) -> str:
    """Return the `Code=` of an event body."""
    head = body.split(";", 1)[0]
    return head.removeprefix("Code=")


def format_part(body: str, *, spaced: bool) -> bytes:
    """Return one multipart part as the firmware writes it."""
    payload = body.encode()
    length = f"Content-Length: {len(payload)}" if spaced else f"Content-Length:{len(payload)}"
    return (
        f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n{length}\r\n\r\n".encode() + payload + b"\r\n"
    )


@dataclass(eq=False, slots=True)
class EventClient:
    """One attached event-stream client: a queue of parts and a filter of codes."""

    codes: frozenset[str] | None  # None: all codes
    queue: asyncio.Queue[bytes | None] = field(default_factory=lambda: asyncio.Queue(256))

    def wants(self, body: str) -> bool:
        """Tell whether this client asked for the event's code."""
        return self.codes is None or event_code(body) in self.codes


class EventHub(EventClients):
    """Formats events with the device's quirks and hands them to every client."""

    def __init__(self, state: DeviceState) -> None:
        """Start with no clients."""
        super().__init__(state)
        self._clients: set[EventClient] = set()

    @property
    def spaced(self) -> bool:
        """Tell whether `Content-Length` gets a space after the colon."""
        quirk = self._state.quirks.content_length_space
        return self._state.model.spaced_content_length if quirk is None else quirk

    def attach(self, codes: frozenset[str] | None) -> EventClient:
        """Register a client."""
        client = EventClient(codes)
        self._clients.add(client)
        self._count(len(self._clients), attached=True)
        return client

    def detach(self, client: EventClient) -> None:
        """Forget a client."""
        self._clients.discard(client)
        self._count(len(self._clients))

    def publish(self, bodies: list[str]) -> None:
        """Queue event bodies for every client that wants them, as one write per client."""
        quirks = self._state.quirks
        for client in self._clients:
            parts = [self.render(body) for body in bodies if client.wants(body)]
            if not parts:
                continue
            chunks = [b"".join(parts)] if quirks.coalesce_parts else parts
            for chunk in chunks:
                _offer(client, chunk)

    def render(self, body: str) -> bytes:
        """Return an event part with the stray-line quirk applied."""
        part = format_part(body, spaced=self.spaced)
        return STRAY_HTTP_LINE + part if self._state.quirks.stray_http_line else part

    def heartbeat(self) -> bytes:
        """Return a heartbeat part."""
        return format_part(HEARTBEAT, spaced=self.spaced)

    def send_raw(self, data: bytes) -> None:
        """Queue raw bytes (garbage) for every client."""
        for client in self._clients:
            _offer(client, data)

    def drop_all(self) -> None:
        """Ask every client's writer to close its connection."""
        for client in self._clients:
            _offer(client, None)

    async def stream(
        self,
        client: EventClient,
        write: Callable[[bytes], Awaitable[None]],
        heartbeat: float,
    ) -> None:
        """Write a client's parts and heartbeats until it is dropped."""
        while True:
            try:
                chunk = await asyncio.wait_for(client.queue.get(), heartbeat)
            except TimeoutError:
                chunk = self.heartbeat()
            if chunk is None:
                return
            await self._flowing.wait()
            if self._state.quirks.split_parts and len(chunk) > 1:
                middle = len(chunk) // 2
                await write(chunk[:middle])
                await asyncio.sleep(0.02)
                chunk = chunk[middle:]
            await write(chunk)


def _offer(client: EventClient, chunk: bytes | None) -> None:
    """Queue a chunk; a client too slow to take 256 parts loses the oldest."""
    if client.queue.full():
        client.queue.get_nowait()
    client.queue.put_nowait(chunk)
