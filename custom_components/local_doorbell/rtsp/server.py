"""An RTSP 1.0 server: digest auth, SDP, RTP interleaved over TCP; what it serves is a subclass's.

Subclasses say what a URL names (`resolve`), its tracks and SDP, and where a session starts
playing (`play`); they hand packets to `publish`. The server owns the listener, the
connections, authentication and the RTSP dialogue, as clients from FFmpeg to go2rtc expect it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
import contextlib
import socket

from .connection import Connection, Session
from .digest import DigestAuthenticator
from .media import Kind, MediaPacket, Track
from .rtp import Packetizer

_LINE_LIMIT = 8192  # bytes in one request line or header line


class RtspServer:
    """Serves RTSP clients on one address; see the module's docstring for the split of work."""

    name = "Rtsp Server/3.0"  # the Server header
    cname = b"rtsp-server"  # the RTCP canonical name of the streams sent

    def __init__(
        self,
        host: str,
        port: int,
        auth: DigestAuthenticator,
        *,
        session_timeout: float = 60.0,
        write_limit: int = 512 * 1024,
        max_connections: int = 64,
    ) -> None:
        """Describe the server; nothing listens before `start()`."""
        self.host = host
        self.port = port
        self.auth = auth
        self.session_timeout = session_timeout
        self.write_limit = write_limit  # bytes queued for a client before it skips ahead
        self.max_connections = max_connections
        self._server: asyncio.Server | None = None
        self.connections: set[Connection] = set()

    # --- what a subclass says ------------------------------------------------------------

    def resolve(self, path: str, query: Mapping[str, Sequence[str]]) -> object | None:
        """Return the source a URL's path and query name, or None (404)."""
        raise NotImplementedError

    def tracks(self, source: object) -> Mapping[int, Track]:
        """Return a source's tracks by id."""
        raise NotImplementedError

    async def describe(self, source: object, session_id: int) -> str | None:
        """Return a source's SDP, or None while there is nothing to describe (503)."""
        raise NotImplementedError

    def play(
        self, connection: Connection, session: Session
    ) -> tuple[Mapping[Kind, int], Callable[[], None] | None]:
        """Start a session: return where each track starts, and what follows the response.

        The first is each track's pts (RTP-Info tells the client), empty when not known; the
        second runs once the PLAY response is written, before any other packet.
        """
        raise NotImplementedError

    def read_timeout(self, connection: Connection) -> float:
        """Return how long a client may stay silent before it is dropped."""
        return self.session_timeout

    def session_opened(self, session: Session) -> None:
        """Count a session (SETUP); nothing by default."""

    def session_closed(self, session: Session) -> None:
        """Count a session's end (TEARDOWN, a dropped client); nothing by default."""

    # --- the server ------------------------------------------------------------------------

    @property
    def listening(self) -> bool:
        """Tell whether the server listens."""
        return self._server is not None

    async def start(self) -> int:
        """Listen (again, on the same port after the first start) and return the port."""
        if self._server is not None:
            raise RuntimeError("already started")
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, reuse_address=True, limit=_LINE_LIMIT
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening and drop every client."""
        if self._server is None:
            return
        self._server.close()
        await self.close_sessions()
        await self._server.wait_closed()
        self._server = None

    async def close_sessions(self) -> None:
        """Drop every client connection but keep listening."""
        tasks = [connection.task for connection in self.connections]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def playing(self, source: object) -> list[Connection]:
        """Return the connections whose sessions play a source."""
        return [
            c
            for c in self.connections
            if c.session is not None and c.session.playing and c.session.source == source
        ]

    def publish(self, source: object, packet: MediaPacket, packetize: Packetizer) -> None:
        """Send a packet to every session playing a source, packetized once for all."""
        connections = self.playing(source)
        if connections:
            payloads = packetize(packet.data)
            for connection in connections:
                connection.send([(packet, payloads)])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # a stream callback always runs in a task
        if len(self.connections) >= self.max_connections:
            writer.transport.abort()
            return
        # A fixed kernel buffer, as on an embedded device: Linux would otherwise grow it to
        # megabytes, hiding a stalled client for many seconds before it skips ahead.
        with contextlib.suppress(OSError):  # the client may already be gone
            writer.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_SNDBUF, self.write_limit
            )
        connection = Connection(self, reader, writer, task)
        self.connections.add(connection)
        try:
            await connection.run()
        finally:
            self.connections.discard(connection)
            connection.close()
