"""One RTSP client connection: its requests, its session and the RTP it is sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
import logging
import random
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from .rtp import Payloads, interleaved, rtp_packet
from .sdp import Track, describe, tracks
from .video import MediaPacket

if TYPE_CHECKING:
    from .rtsp import RtspServer

_LOGGER = logging.getLogger(__name__)

_SERVER = "Rtsp Server/3.0"
_TRACK = re.compile(r"/trackID=(\d+)$")
_INTERLEAVED = re.compile(r"interleaved=(\d+)")
_MAX_HEADER_LINES = 64
_PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER"
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    454: "Session Not Found",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    501: "Not Implemented",
}


@dataclass(slots=True)
class _Request:
    method: str  # empty when the request line was not RTSP
    url: str
    headers: dict[str, str]  # names in lower case


@dataclass(slots=True)
class _Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(slots=True)
class _Channel:
    """A track set up in a session: where its packets go and its RTP numbering."""

    track: Track
    number: int  # interleaved channel of RTP (RTCP would be number + 1)
    url: str  # as the client named it in SETUP, which RTP-Info must repeat
    ssrc: int = field(default_factory=lambda: random.getrandbits(32))
    seq: int = field(default_factory=lambda: random.getrandbits(16))
    base: int = field(default_factory=lambda: random.getrandbits(32))

    def timestamp(self, pts: int, offset_seconds: int) -> int:
        """Return the RTP timestamp of a stream pts, shifted by the jump fault's offset."""
        return (self.base + pts + offset_seconds * self.track.clock_rate) & 0xFFFFFFFF


@dataclass(slots=True)
class _Session:
    """One client's session on one source."""

    id: str
    source: int
    channels: dict[str, _Channel] = field(default_factory=dict)  # by kind
    playing: bool = False
    need_keyframe: bool = False

    def restart(self) -> None:
        """Send nothing until the next keyframe, so the client's decoder starts cleanly."""
        self.need_keyframe = "video" in self.channels

    def rtp(self, packet: MediaPacket, payloads: Payloads, offset_seconds: int) -> bytes:
        """Return the interleaved RTP packets this session sends for a media packet."""
        channel = self.channels.get(packet.kind)
        if channel is None or not self.playing:
            return b""
        if self.need_keyframe:
            if packet.kind != "video" or not packet.keyframe:
                return b""
            self.need_keyframe = False
        timestamp = channel.timestamp(packet.pts, offset_seconds)
        frames = []
        for marker, payload in payloads:
            rtp = rtp_packet(
                payload,
                payload_type=channel.track.payload_type,
                marker=marker,
                seq=channel.seq,
                timestamp=timestamp,
                ssrc=channel.ssrc,
            )
            frames.append(interleaved(channel.number, rtp))
            channel.seq = (channel.seq + 1) & 0xFFFF
        return b"".join(frames)


class Connection:
    """One client's TCP connection: its requests, its session and its RTP."""

    def __init__(
        self,
        server: RtspServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        task: asyncio.Task[None],
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.task = task
        self.session: _Session | None = None

    async def run(self) -> None:
        """Answer requests until the client leaves, idles past the timeout or sends junk."""
        try:
            while True:
                async with asyncio.timeout(self.server.session_timeout):
                    request = await self._read()
                if request is not None:
                    self.writer.write(self._respond(request))
        except (
            TimeoutError,
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
        ) as err:
            _LOGGER.debug("RTSP client gone: %r", err)

    def close(self) -> None:
        """End the session and drop the connection at once, queued data and all."""
        self._end_session()
        self.writer.transport.abort()

    def restart(self) -> None:
        """Make the session wait for the next keyframe."""
        if self.session is not None:
            self.session.restart()

    def send(self, packet: MediaPacket, payloads: Payloads, offset_seconds: int) -> None:
        """Queue a packet's RTP, unless the client is too far behind to take more."""
        if self.session is None:
            return
        if self.writer.transport.get_write_buffer_size() > self.server.write_limit:
            self.session.restart()  # a slow client loses pictures, never the others' time
            return
        data = self.session.rtp(packet, payloads, offset_seconds)
        if data:
            self.writer.write(data)

    async def _read(self) -> _Request | None:
        """Read one request, or one interleaved frame (RTCP) from the client and return None."""
        first = await self.reader.readexactly(1)
        if first == b"$":
            header = await self.reader.readexactly(3)
            await self.reader.readexactly(int.from_bytes(header[1:]))
            return None
        lines = [(first + await self.reader.readuntil(b"\n")).decode("latin-1").strip()]
        if not lines[0]:
            return None  # a blank line between requests
        while lines[-1]:
            if len(lines) > _MAX_HEADER_LINES:
                raise ValueError("request header too long")
            lines.append((await self.reader.readuntil(b"\n")).decode("latin-1").strip())
        headers = {}
        for line in lines[1:-1]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        await self.reader.readexactly(int(headers.get("content-length", "0")))
        parts = lines[0].split()
        if len(parts) != 3 or not parts[2].startswith("RTSP/"):
            return _Request("", "", headers)
        return _Request(parts[0].upper(), parts[1], headers)

    def _respond(self, request: _Request) -> bytes:
        """Return the encoded response to a request."""
        response = self._handle(request)
        _LOGGER.debug("RTSP %s %s -> %d", request.method, request.url, response.status)
        lines = [f"RTSP/1.0 {response.status} {_REASONS[response.status]}"]
        if "cseq" in request.headers:
            lines.append(f"CSeq: {request.headers['cseq']}")
        lines.append(f"Server: {_SERVER}")
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        if response.body:
            lines.append(f"Content-Length: {len(response.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + response.body

    def _handle(self, request: _Request) -> _Response:
        handlers: dict[str, Callable[[_Request], _Response]] = {
            "OPTIONS": lambda _: _Response(200, {"Public": _PUBLIC}),
            "DESCRIBE": self._describe,
            "SETUP": self._setup,
            "PLAY": self._play,
            "PAUSE": self._pause,
            "TEARDOWN": self._teardown,
            "GET_PARAMETER": lambda _: _Response(200, self._session_header()),
        }
        if not request.method:
            return _Response(400)
        handler = handlers.get(request.method)
        if handler is None:
            return _Response(501, {"Public": _PUBLIC})
        auth = self.server.auth
        if request.method != "OPTIONS" and not auth.verify(
            request.method, request.headers.get("authorization")
        ):
            return _Response(401, {"WWW-Authenticate": auth.challenge(qop=False)})
        return handler(request)

    def _resolve(self, url: str) -> tuple[int, int | None] | None:
        """Return the source index and track id (None: the aggregate) a URL names."""
        match = _TRACK.search(url)
        parts = urlsplit((url[: match.start()] if match else url).rstrip("/"))
        query = parse_qs(parts.query)
        index = self.server.resolve(parts.path, query)
        if index is None or index not in self.server.sources:
            return None
        return index, int(match[1]) if match else None

    def _describe(self, request: _Request) -> _Response:
        target = self._resolve(request.url)
        if target is None or target[1] is not None:
            return _Response(404)
        sdp = describe(self.server.sources[target[0]], random.getrandbits(31))
        headers = {"Content-Base": request.url.rstrip("/") + "/", "Content-Type": "application/sdp"}
        return _Response(200, headers, sdp.encode())

    def _setup(self, request: _Request) -> _Response:
        target = self._resolve(request.url)
        if target is None:
            return _Response(404)
        index, track_id = target
        track = tracks(self.server.sources[index]).get(track_id or 0)
        if track is None:
            return _Response(404)
        transport = request.headers.get("transport", "")
        if "RTP/AVP/TCP" not in transport.upper():
            return _Response(461)  # FFmpeg then retries over TCP
        session = self.session
        if not self._own(request):
            return _Response(454)
        if session is None:
            session = self.session = _Session(str(random.randrange(10**8, 10**9)), index)
            self.server.state.counters.rtsp_sessions += 1
            self.server.state.counters.rtsp_sessions_total += 1
        elif session.source != index:
            return _Response(459)
        match = _INTERLEAVED.search(transport)
        channel = _Channel(track, int(match[1]) if match else 2 * track.track_id, request.url)
        session.channels[track.kind] = channel
        return _Response(
            200,
            {
                "Transport": f"RTP/AVP/TCP;unicast;interleaved={channel.number}-"
                f"{channel.number + 1};ssrc={channel.ssrc:08X}",
                **self._session_header(),
            },
        )

    def _play(self, request: _Request) -> _Response:
        session = self.session
        if session is None or not self._own(request):
            return _Response(454)
        session.playing = True
        session.restart()
        elapsed = self.server.sources[session.source].stream_time()
        offset = self.server.state.rtp_timestamp_offset
        rtp_info = ",".join(
            f"url={c.url};seq={c.seq};"
            f"rtptime={c.timestamp(int(elapsed * c.track.clock_rate), offset)}"
            for c in session.channels.values()
        )
        headers = {**self._session_header(), "Range": "npt=0.000-", "RTP-Info": rtp_info}
        return _Response(200, headers)

    def _pause(self, request: _Request) -> _Response:
        if self.session is None or not self._own(request):
            return _Response(454)
        self.session.playing = False
        return _Response(200, self._session_header())

    def _teardown(self, request: _Request) -> _Response:
        if not self._own(request):
            return _Response(454)
        self._end_session()
        return _Response(200)

    def _own(self, request: _Request) -> bool:
        """Return whether the request's Session header (if any) names this connection's."""
        named = request.headers.get("session", "").partition(";")[0].strip()
        return not named or (self.session is not None and named == self.session.id)

    def _session_header(self) -> dict[str, str]:
        if self.session is None:
            return {}
        return {"Session": f"{self.session.id};timeout={round(self.server.session_timeout)}"}

    def _end_session(self) -> None:
        if self.session is not None:
            self.session = None
            self.server.state.counters.rtsp_sessions -= 1
