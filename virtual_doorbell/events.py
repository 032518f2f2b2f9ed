"""The Dahua event stream: multipart parts, firmware quirks and fan-out to every client."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from .event_clients import StreamClient, StreamHub, Write

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
class EventClient(StreamClient):
    """One attached event-stream client: a queue of parts and a filter of codes."""

    codes: frozenset[str] | None  # None: all codes

    def wants(self, body: str) -> bool:
        """Tell whether this client asked for the event's code."""
        return self.codes is None or event_code(body) in self.codes


class EventHub(StreamHub[EventClient]):
    """Formats events with the device's quirks and hands them to every client."""

    @property
    def spaced(self) -> bool:
        """Tell whether `Content-Length` gets a space after the colon."""
        quirk = self._state.quirks.content_length_space
        return self._state.model.spaced_content_length if quirk is None else quirk

    def attach(self, codes: frozenset[str] | None) -> EventClient:
        """Register a client of the codes (None: all)."""
        return self._add(EventClient(codes))

    def publish(self, bodies: list[str]) -> None:
        """Queue event bodies for every client that wants them, as one write per client."""
        quirks = self._state.quirks
        for client in self.clients:
            parts = [self.render(body) for body in bodies if client.wants(body)]
            if not parts:
                continue
            chunks = [b"".join(parts)] if quirks.coalesce_parts else parts
            for chunk in chunks:
                client.offer(chunk)

    def render(self, body: str) -> bytes:
        """Return an event part with the stray-line quirk applied."""
        part = format_part(body, spaced=self.spaced)
        return STRAY_HTTP_LINE + part if self._state.quirks.stray_http_line else part

    def heartbeat(self) -> bytes:
        """Return a heartbeat part."""
        return format_part(HEARTBEAT, spaced=self.spaced)

    async def stream(self, client: EventClient, write: Write, heartbeat: float) -> None:
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
