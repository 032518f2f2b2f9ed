"""An RTSP 1.0 server like a Dahua doorbell's: digest auth, SDP, RTP interleaved over TCP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
import contextlib
import functools
import socket

from .digest import DigestAuthenticator
from .rtp import Payloads, aac_payloads, h264_payloads, pcmu_payloads
from .rtsp_connection import Connection
from .state import DeviceState
from .video import MediaPacket, VideoSource


class RtspServer:
    """Serves `sources[N]` at the paths the personality's `resolve` maps to N."""

    def __init__(
        self,
        host: str,
        port: int,
        auth: DigestAuthenticator,
        sources: dict[int, VideoSource],
        state: DeviceState,
        *,
        resolve: Callable[[str, Mapping[str, Sequence[str]]], int | None],
        session_timeout: float = 60.0,
        write_limit: int = 512 * 1024,
    ) -> None:
        """Describe the server; nothing listens before `start()`."""
        self.host = host
        self.port = port
        self.auth = auth
        self.sources = sources
        self.state = state
        self.resolve = resolve  # the stream an URL's path and query name
        self.session_timeout = session_timeout
        self.write_limit = write_limit  # bytes queued for a client before it skips ahead
        self._server: asyncio.Server | None = None
        self._connections: set[Connection] = set()
        self._callbacks: dict[int, Callable[[MediaPacket], None]] = {}

    async def start(self) -> int:
        """Listen (again, on the same port after the first start) and return the port."""
        if self._server is not None:
            raise RuntimeError("already started")
        loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        for index, source in self.sources.items():
            callback = functools.partial(self._from_source, loop, index)
            source.subscribe(callback)
            self._callbacks[index] = callback
        return self.port

    async def stop(self) -> None:
        """Stop listening and drop every client, as a rebooting device does."""
        if self._server is None:
            return
        for index, callback in self._callbacks.items():
            self.sources[index].unsubscribe(callback)
        self._callbacks.clear()
        self._server.close()
        await self.close_sessions()
        await self._server.wait_closed()
        self._server = None

    async def close_sessions(self) -> None:
        """Drop every client connection but keep listening."""
        tasks = [connection.task for connection in self._connections]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _from_source(
        self, loop: asyncio.AbstractEventLoop, index: int, packet: MediaPacket
    ) -> None:
        """Hop from the source's thread to the event loop."""
        loop.call_soon_threadsafe(self._on_packet, index, packet)

    def _on_packet(self, index: int, packet: MediaPacket) -> None:
        """Send a packet to every session playing its source."""
        connections = [c for c in self._connections if c.session and c.session.source == index]
        if not connections:
            return
        if self.state.faults.stop_video:
            for connection in connections:
                connection.restart()
            return
        payloads = _packetize(self.sources[index], packet)
        for connection in connections:
            connection.send(packet, payloads, self.state.rtp_timestamp_offset)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # a stream callback always runs in a task
        # A fixed kernel buffer, as on an embedded device: Linux would otherwise grow it to
        # megabytes, hiding a stalled client for many seconds before it skips ahead.
        with contextlib.suppress(OSError):  # the client may already be gone
            writer.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_SNDBUF, self.write_limit
            )
        connection = Connection(self, reader, writer, task)
        self._connections.add(connection)
        try:
            await connection.run()
        finally:
            self._connections.discard(connection)
            connection.close()


def _packetize(source: VideoSource, packet: MediaPacket) -> Payloads:
    """Return the RTP payloads of a media packet, shared by every session."""
    if packet.kind == "video":
        return h264_payloads(packet.data)
    if source.audio_codec == "aac":
        return aac_payloads(packet.data)
    return pcmu_payloads(packet.data)
