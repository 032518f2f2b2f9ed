"""One RTSP client connection: its requests, its session and the RTP it is sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
import logging
import random
import re
import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from .media import Kind, MediaPacket, Track
from .outbox import Frame, Outbox
from .rtp import Payloads, interleaved, interleaved_rtp, rtcp_keepalive

if TYPE_CHECKING:
    from .server import RtspServer

_LOGGER = logging.getLogger(__name__)

_TRACK = re.compile(r"/trackID=(\d+)$")
_INTERLEAVED = re.compile(r"interleaved=(\d+)")
_MAX_HEADER_LINES = 64
MAX_BODY = 4096  # requests carry no bodies worth reading (GET_PARAMETER's is a few names)
PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER"
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    501: "Not Implemented",
    503: "Service Unavailable",
}


class BadRequest(Exception):
    """The client sent what is not an RTSP request: answered with 400, then it is dropped."""


@dataclass(slots=True)
class Request:
    """One request as the server read it."""

    method: str  # empty when the request line was not RTSP
    url: str
    headers: dict[str, str]  # names in lower case


@dataclass(slots=True)
class Response:
    """A response, and what to do once it is written (start sending RTP)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    then: Callable[[], None] | None = None


@dataclass(slots=True)
class Channel:
    """A track set up in a session: where its packets go and its RTP numbering."""

    track: Track
    number: int  # interleaved channel of RTP (RTCP is number + 1)
    url: str  # as the client named it in SETUP, which RTP-Info must repeat
    ssrc: int = field(default_factory=lambda: random.getrandbits(32))
    seq: int = field(default_factory=lambda: random.getrandbits(16))
    base: int = field(default_factory=lambda: random.getrandbits(32))

    def timestamp(self, pts: int) -> int:
        """Return the RTP timestamp of a pts in the track's clock."""
        return (self.base + pts) & 0xFFFFFFFF


@dataclass(slots=True)
class Session:
    """One client's session on one source."""

    id: str
    source: object  # what the server's `resolve` named
    channels: dict[Kind, Channel] = field(default_factory=dict)
    playing: bool = False
    need_keyframe: bool = False

    def restart(self) -> None:
        """Send nothing until the next keyframe, so the client's decoder starts cleanly."""
        self.need_keyframe = "video" in self.channels

    def rtp(self, frames: list[Frame], packet: MediaPacket, payloads: Payloads) -> None:
        """Add the interleaved RTP this session sends for a media packet to `frames`."""
        channel = self.channels.get(packet.kind)
        if channel is None or not self.playing:
            return
        if self.need_keyframe:
            if packet.kind != "video" or not packet.keyframe:
                return
            self.need_keyframe = False
        channel.seq = interleaved_rtp(
            frames,
            payloads,
            channel=channel.number,
            payload_type=channel.track.payload_type,
            seq=channel.seq,
            timestamp=channel.timestamp(packet.pts),
            ssrc=channel.ssrc,
        )


class Connection:
    """One client's TCP connection: its requests, its session and its RTP.

    Requests are read and answered on the server's loop; media may be sent from any thread.
    """

    def __init__(
        self,
        server: RtspServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        task: asyncio.Task[None],
    ) -> None:
        """Serve a client the server accepted."""
        self.server = server
        self.reader = reader
        self.writer = writer
        self.task = task
        self.session: Session | None = None
        self.sent_at = time.monotonic()  # when media was last queued for the client
        # Every byte to the client goes through here, responses too, so none overtakes another.
        self.outbox = Outbox(asyncio.get_running_loop(), writer.get_extra_info("socket").fileno())

    async def run(self) -> None:
        """Answer requests until the client leaves, idles past the timeout or sends junk."""
        try:
            while True:
                async with asyncio.timeout(self.server.read_timeout(self)):
                    request = await self._read()
                if request is not None:
                    response = await self._handle(request)
                    self.outbox.write([self._encode(request, response)])
                    if response.then is not None:
                        response.then()
        except (asyncio.LimitOverrunError, ValueError, BadRequest) as err:
            # Odd input gets an answer a client can log; the connection ends all the same.
            _LOGGER.debug("RTSP client sent junk: %r", err)
            self.outbox.write([self._encode(Request("", "", {}), Response(400))])
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError) as err:
            _LOGGER.debug("RTSP client gone: %r", err)

    def close(self) -> None:
        """End the session and drop the connection at once, queued data and all."""
        self._end_session()
        self.outbox.close()
        self.writer.transport.abort()

    def restart(self) -> None:
        """Make the session wait for the next keyframe."""
        if self.session is not None:
            self.session.restart()

    def send(self, packets: Iterable[tuple[MediaPacket, Payloads]]) -> None:
        """Send packets' RTP in one write, unless the client is too far behind to take more.

        From any thread, one at a time: a server that sends from another thread than its
        loop's keeps the session's numbering to that thread.
        """
        session = self.session
        if session is None:
            return
        if self.outbox.queued > self.server.write_limit:
            session.restart()  # a slow client loses pictures, never the others' time
            return
        frames: list[Frame] = []
        for packet, payloads in packets:
            session.rtp(frames, packet, payloads)
        if frames:
            self.outbox.write(frames)
            self.sent_at = time.monotonic()

    def keepalive(self) -> None:
        """Send RTCP on every channel: a sign of life while no media flows."""
        session = self.session
        if session is None or not session.playing:
            return
        self.outbox.write(
            [
                interleaved(channel.number + 1, rtcp_keepalive(channel.ssrc, self.server.cname))
                for channel in session.channels.values()
            ]
        )

    async def _read(self) -> Request | None:
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
                raise BadRequest("request header too long")
            lines.append((await self.reader.readuntil(b"\n")).decode("latin-1").strip())
        headers = {}
        for line in lines[1:-1]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            raise BadRequest(f"Content-Length {length[:20]!r}")
        await self.reader.readexactly(int(length))
        parts = lines[0].split()
        if len(parts) != 3 or not parts[2].startswith("RTSP/"):
            return Request("", "", headers)
        return Request(parts[0].upper(), parts[1], headers)

    def _encode(self, request: Request, response: Response) -> bytes:
        """Return the encoded response to a request."""
        _LOGGER.debug("RTSP %s %s -> %d", request.method, request.url, response.status)
        lines = [f"RTSP/1.0 {response.status} {_REASONS[response.status]}"]
        if "cseq" in request.headers:
            lines.append(f"CSeq: {request.headers['cseq']}")
        lines.append(f"Server: {self.server.name}")
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        if response.body:
            lines.append(f"Content-Length: {len(response.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + response.body

    async def _handle(self, request: Request) -> Response:
        handlers: dict[str, Callable[[Request], Response]] = {
            "OPTIONS": lambda _: Response(200, {"Public": PUBLIC}),
            "SETUP": self._setup,
            "PLAY": self._play,
            "PAUSE": self._pause,
            "TEARDOWN": self._teardown,
            "GET_PARAMETER": lambda _: Response(200, self._session_header()),
        }
        if not request.method:
            return Response(400)
        if request.method not in handlers and request.method != "DESCRIBE":
            return Response(501, {"Public": PUBLIC})
        auth = self.server.auth
        if request.method != "OPTIONS" and not auth.verify(
            request.method, request.headers.get("authorization")
        ):
            return Response(401, {"WWW-Authenticate": auth.challenge(qop=False)})
        if request.method == "DESCRIBE":
            return await self._describe(request)
        return handlers[request.method](request)

    def _resolve(self, url: str) -> tuple[object, int | None] | None:
        """Return the source and track id (None: the aggregate) a URL names."""
        match = _TRACK.search(url)
        parts = urlsplit((url[: match.start()] if match else url).rstrip("/"))
        source = self.server.resolve(parts.path, parse_qs(parts.query))
        if source is None:
            return None
        return source, int(match[1]) if match else None

    async def _describe(self, request: Request) -> Response:
        target = self._resolve(request.url)
        if target is None or target[1] is not None:
            return Response(404)
        sdp = await self.server.describe(target[0], random.getrandbits(31))
        if sdp is None:
            return Response(503)  # nothing to describe yet: the source is not streaming
        headers = {"Content-Base": request.url.rstrip("/") + "/", "Content-Type": "application/sdp"}
        return Response(200, headers, sdp.encode())

    def _setup(self, request: Request) -> Response:
        target = self._resolve(request.url)
        if target is None:
            return Response(404)
        source, track_id = target
        track = self.server.tracks(source).get(track_id or 0)
        if track is None:
            return Response(404)
        transport = request.headers.get("transport", "")
        if "RTP/AVP/TCP" not in transport.upper():
            return Response(461)  # FFmpeg then retries over TCP
        session = self.session
        if not self._own(request):
            return Response(454)
        if session is None:
            session = self.session = Session(str(random.randrange(10**8, 10**9)), source)
            self.server.session_opened(session)
        elif session.source != source:
            return Response(459)
        match = _INTERLEAVED.search(transport)
        channel = Channel(track, int(match[1]) if match else 2 * track.track_id, request.url)
        session.channels[track.kind] = channel
        return Response(
            200,
            {
                "Transport": f"RTP/AVP/TCP;unicast;interleaved={channel.number}-"
                f"{channel.number + 1};ssrc={channel.ssrc:08X}",
                **self._session_header(),
            },
        )

    def _play(self, request: Request) -> Response:
        session = self.session
        if session is None or not self._own(request):
            return Response(454)
        session.playing = True
        start, then = self.server.play(self, session)
        headers = {**self._session_header(), "Range": "npt=0.000-"}
        if start:
            headers["RTP-Info"] = ",".join(
                f"url={c.url};seq={c.seq};rtptime={c.timestamp(start[kind])}"
                for kind, c in session.channels.items()
                if kind in start
            )
        return Response(200, headers, then=then)

    def _pause(self, request: Request) -> Response:
        if self.session is None or not self._own(request):
            return Response(454)
        self.session.playing = False
        return Response(200, self._session_header())

    def _teardown(self, request: Request) -> Response:
        if not self._own(request):
            return Response(454)
        self._end_session()
        return Response(200)

    def _own(self, request: Request) -> bool:
        """Return whether the request's Session header (if any) names this connection's."""
        named = request.headers.get("session", "").partition(";")[0].strip()
        return not named or (self.session is not None and named == self.session.id)

    def _session_header(self) -> dict[str, str]:
        if self.session is None:
            return {}
        return {"Session": f"{self.session.id};timeout={round(self.server.session_timeout)}"}

    def _end_session(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            self.server.session_closed(session)
