"""The doorbell's RTSP server, as a Dahua doorbell's behaves: the integration's, fed by encoders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
import functools

from custom_components.local_doorbell.rtsp.connection import Connection, Session
from custom_components.local_doorbell.rtsp.digest import DigestAuthenticator
from custom_components.local_doorbell.rtsp.media import Kind, MediaPacket, Track
from custom_components.local_doorbell.rtsp.rtp import (
    Packetizer,
    aac_payloads,
    g711_payloads,
    h264_payloads,
)
from custom_components.local_doorbell.rtsp.sdp import describe
from custom_components.local_doorbell.rtsp.server import RtspServer

from .sdp import tracks
from .state import DeviceState
from .video import VideoSource


class DeviceRtspServer(RtspServer):
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
        super().__init__(host, port, auth, session_timeout=session_timeout, write_limit=write_limit)
        self.sources = sources
        self.state = state
        self._resolve = resolve  # the stream an URL's path and query name
        self._callbacks: dict[int, Callable[[MediaPacket], None]] = {}

    async def start(self) -> int:
        """Listen and subscribe to the encoders."""
        port = await super().start()
        loop = asyncio.get_running_loop()
        for index, source in self.sources.items():
            callback = functools.partial(self._from_source, loop, index)
            source.subscribe(callback)
            self._callbacks[index] = callback
        return port

    async def stop(self) -> None:
        """Stop listening and drop every client, as a rebooting device does."""
        for index, callback in self._callbacks.items():
            self.sources[index].unsubscribe(callback)
        self._callbacks.clear()
        await super().stop()

    def resolve(self, path: str, query: Mapping[str, Sequence[str]]) -> object | None:
        """Return the index of the source a URL names."""
        index = self._resolve(path, query)
        return index if index in self.sources else None

    def tracks(self, source: object) -> Mapping[int, Track]:
        """Return the tracks of a source."""
        assert isinstance(source, int)
        return tracks(self.sources[source])

    async def describe(self, source: object, session_id: int) -> str | None:
        """Return the SDP of a source, as Dahua firmware names its session."""
        return describe(self.tracks(source).values(), session_id, "Media Server")

    def play(
        self, connection: Connection, session: Session
    ) -> tuple[Mapping[Kind, int], Callable[[], None] | None]:
        """Start at the next keyframe; RTP-Info tells the clocks of the moment."""
        session.restart()
        assert isinstance(session.source, int)
        elapsed = self.sources[session.source].stream_time()
        offset = self.state.rtp_timestamp_offset
        start = {
            kind: int((elapsed + offset) * channel.track.clock_rate)
            for kind, channel in session.channels.items()
        }
        return start, None

    def session_opened(self, session: Session) -> None:
        """Count the session, as `/sim/state` shows it."""
        self.state.counters.rtsp_sessions += 1
        self.state.counters.rtsp_sessions_total += 1

    def session_closed(self, session: Session) -> None:
        """Count the session's end."""
        self.state.counters.rtsp_sessions -= 1

    def _from_source(
        self, loop: asyncio.AbstractEventLoop, index: int, packet: MediaPacket
    ) -> None:
        """Hop from the source's thread to the event loop."""
        loop.call_soon_threadsafe(self._on_packet, index, packet)

    def _on_packet(self, index: int, packet: MediaPacket) -> None:
        """Send a packet to every session playing its source."""
        if self.state.faults.stop_video:
            for connection in self.playing(index):
                connection.restart()
            return
        offset = self.state.rtp_timestamp_offset
        if offset:  # the jump fault: every clock moves on by as many seconds
            rate = next(t.clock_rate for t in self.tracks(index).values() if t.kind == packet.kind)
            packet = MediaPacket(
                packet.kind, packet.data, packet.pts + offset * rate, packet.keyframe
            )
        self.publish(index, packet, _packetizer(self.sources[index], packet))


def _packetizer(source: VideoSource, packet: MediaPacket) -> Packetizer:
    """Return how a packet of a source becomes RTP payloads."""
    if packet.kind == "video":
        return h264_payloads
    return aac_payloads if source.audio_codec == "aac" else g711_payloads
