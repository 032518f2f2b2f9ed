"""The restream: one doorbell's stream, read once by the recorder, served to any local client.

Home Assistant's stream (HLS), go2rtc (WebRTC) and any other RTSP client read the doorbell
here, on 127.0.0.1 with a random per-entry credential, so the device sees exactly one RTSP
session (the recorder's) however many watch. A new reader starts at the newest keyframe the
restream holds (a GOP cache: references to the recorder's own packets, no copies), so it
decodes a picture at once instead of waiting for the device's next keyframe.

The server answers RTSP on its own thread and event loop, never Home Assistant's. Media
goes out on the recorder's ingest thread, as the ingest hands it on (within a tenth of a
second while anyone watches, `on_watched`, instead of once a second): a hop to the server's
loop per batch cost several times the sending itself. Each packet is packetized once for
all readers, into RTP as large as interleaved TCP carries, and written to each in one go.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
import contextlib
import logging
import secrets
import threading
import time

from ..recording.capture.packet import Packet
from ..recording.capture.streams import StreamInfo
from .connection import Connection, Session
from .digest import DigestAuthenticator
from .media import Kind, MediaPacket, Track
from .rtp import Payloads
from .sdp import describe as session_description
from .server import RtspServer
from .tracks import Served, served

_LOGGER = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
PATH = "/live"
USER = "local-doorbell"
MAX_CONNECTIONS = 16  # HLS, go2rtc and a few more; a local process cannot open hundreds
MAX_GOP_BYTES = 16 * 1024 * 1024  # a group of pictures larger than this is not cached
DESCRIBE_WAIT = 5.0  # seconds a client asking before the first keyframe waits for it
KEEPALIVE = 1.0  # seconds without media after which readers get RTCP, to keep them open
_STARTED_WITHIN = 10.0


class Restream(RtspServer):
    """One doorbell's restream; `open()` and `close()` from any thread, feeds from the ingest's."""

    name = "Local Doorbell"
    cname = b"local-doorbell"

    def __init__(self) -> None:
        """Make a credential; nothing listens before `start()`."""
        password = secrets.token_urlsafe(24)
        super().__init__(
            LOOPBACK,
            0,
            DigestAuthenticator("Local Doorbell", USER, password),
            max_connections=MAX_CONNECTIONS,
        )
        self._password = password
        self.on_watched: Callable[[bool], None] = lambda watched: None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._ready: asyncio.Event | None = None  # set while there is something to describe
        # Shared with the ingest thread, under the lock.
        self._lock = threading.Lock()
        self._served: Served | None = None
        self._clocks: dict[Kind, int] = {}  # the served tracks' RTP clock rates
        self._gop: list[Packet] = []  # the newest keyframe and what followed
        self._gop_bytes = 0
        self._watched = False
        self._readers: set[Connection] = set()  # sent each batch as it comes, after the replay
        self._batch: list[Packet] = []  # for the readers, at the end of the ingest's batch
        self.sessions_total = 0  # sessions ever opened, for tests and the benchmark

    @property
    def url(self) -> str:
        """Return the address clients read, credential included."""
        return f"rtsp://{USER}:{self._password}@{LOOPBACK}:{self.port}{PATH}"

    # --- any thread ----------------------------------------------------------------------

    @property
    def viewers(self) -> int:
        """Return the number of clients playing the stream (from any thread)."""
        return len(self._readers)

    @property
    def held(self) -> int:
        """Return the number of packets in the GOP cache (from any thread)."""
        with self._lock:
            return len(self._gop)

    def open(self) -> None:
        """Start the server's thread and return once it listens."""
        if self._thread is not None:
            raise RuntimeError("already started")
        started = threading.Event()
        failed: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(started, failed), name="restream", daemon=True
        )
        self._thread.start()
        if not started.wait(_STARTED_WITHIN) or failed:
            self.close()
            raise RuntimeError("the restream did not start") from (failed[0] if failed else None)

    def close(self) -> None:
        """Close every client and the server, and join the thread."""
        loop, stopping, thread = self._loop, self._stopping, self._thread
        if loop is not None and stopping is not None:
            loop.call_soon_threadsafe(stopping.set)
        if thread is not None:
            thread.join()
        self._thread = None

    # --- the ingest thread ---------------------------------------------------------------

    def on_streams(self, info: StreamInfo) -> None:
        """Take a connection's stream parameters (they lead its packets)."""
        self._call(self._streams, info)

    def on_packet(self, packet: Packet) -> None:
        """Cache a packet and, while anyone reads, keep it for the batch's write."""
        with self._lock:
            if packet.stream == "video" and packet.keyframe:
                self._gop.clear()
                self._gop_bytes = 0
            if self._gop or (packet.stream == "video" and packet.keyframe):
                self._gop.append(packet)
                self._gop_bytes += packet.size
                if self._gop_bytes > MAX_GOP_BYTES:
                    self._gop.clear()  # readers then wait for the next keyframe
            if self._readers:
                self._batch.append(packet)

    def on_batch(self) -> None:
        """Send the batch's packets to every reader, in one write each."""
        with self._lock:
            self._send_batch()

    def on_connection(self, up: bool) -> None:
        """Forget the cached pictures when the device goes away: they would be stale."""
        if not up:
            with self._lock:
                self._gop.clear()

    # --- the server's loop ---------------------------------------------------------------

    def resolve(self, path: str, query: Mapping[str, Sequence[str]]) -> object | None:
        """Serve one path; the query is ignored."""
        return PATH if path == PATH else None

    def tracks(self, source: object) -> Mapping[int, Track]:
        """Return the tracks of the stream (none before its first keyframe)."""
        return {} if self._served is None else self._served.tracks

    async def describe(self, source: object, session_id: int) -> str | None:
        """Return the SDP, waiting a little for the stream's first keyframe."""
        assert self._ready is not None
        try:
            async with asyncio.timeout(DESCRIBE_WAIT):
                await self._ready.wait()
        except TimeoutError:
            return None
        assert self._served is not None
        return session_description(self._served.tracks.values(), session_id, self.name)

    def play(
        self, connection: Connection, session: Session
    ) -> tuple[Mapping[Kind, int], Callable[[], None] | None]:
        """Start at the newest keyframe held, or wait for the next one."""
        with self._lock:
            first = self._gop[0] if self._gop else None
            self._watch(True)
        if first is None:
            session.restart()
            return {}, lambda: self._start(connection)
        seconds = first.pts * first.time_base
        start = {
            kind: round(seconds * channel.track.clock_rate)
            for kind, channel in session.channels.items()
        }
        return start, lambda: self._start(connection)

    def read_timeout(self, connection: Connection) -> float:
        """Give a playing client twice its session timeout: media shows it is there."""
        playing = connection.session is not None and connection.session.playing
        return self.session_timeout * (2 if playing else 1)

    def session_opened(self, session: Session) -> None:
        """Count the session."""
        self.sessions_total += 1

    def session_closed(self, session: Session) -> None:
        """Stop sending to the session's client; the ingest slows down when no one is left."""
        with self._lock:
            self._readers = {c for c in self._readers if c.session not in (None, session)}
            if not self._readers:
                self._watch(False)

    def _watch(self, watched: bool) -> None:
        """Tell the ingest whether anyone watches (under the lock)."""
        if watched != self._watched:
            self._watched = watched
            self.on_watched(watched)

    def _start(self, connection: Connection) -> None:
        """Send a new reader the cached pictures, from the keyframe on, then the rest as it comes.

        Under the lock, no packet slips in between; the batch in the making goes to the
        readers it was made for first, so none reaches the new one twice.
        """
        with self._lock:
            self._send_batch()
            # Counted before its first picture leaves: whoever sees the picture sees it counted.
            self._readers.add(connection)
            connection.send(self._packetized(self._gop))
            self._watch(True)

    def _send_batch(self) -> None:
        """Send the packets kept since the last batch to the readers (under the lock)."""
        batch, self._batch = self._batch, []
        if batch and self._readers:
            media = self._packetized(batch)
            for connection in self._readers:
                connection.send(media)

    def _packetized(self, packets: list[Packet]) -> list[tuple[MediaPacket, Payloads]]:
        """Return the packets of the served kinds in their tracks' clocks, and their RTP payloads.

        Once for all readers, under the lock; a reader's own part is only the RTP headers.
        """
        served = self._served
        if served is None:
            return []
        packetized = []
        for packet in packets:
            kind = packet.stream
            packetize = served.packetizers.get(kind)
            if packetize is None:
                continue
            data = bytes(packet.data)
            if kind == "video" and packet.keyframe:
                data = served.keyframe(data)
            tb = packet.time_base
            pts = packet.pts * self._clocks[kind] * tb.numerator // tb.denominator
            packetized.append((MediaPacket(kind, data, pts, packet.keyframe), packetize(data)))
        return packetized

    def _streams(self, info: StreamInfo) -> None:
        """Serve a stream's tracks; readers of other tracks must start anew."""
        new = served(info)
        if self._served is not None and (new is None or new.tracks != self._served.tracks):
            _LOGGER.info("The doorbell's stream changed; live viewers reconnect")
            for connection in list(self.connections):
                connection.task.cancel()
        with self._lock:
            self._served = new
            self._clocks = (
                {} if new is None else {t.kind: t.clock_rate for t in new.tracks.values()}
            )
        assert self._ready is not None
        if new is None:
            self._ready.clear()
        else:
            self._ready.set()

    def _call[*T](self, callback: Callable[[*T], object], *args: *T) -> None:
        """Run a callback on the server's loop, if it runs."""
        loop = self._loop
        if loop is not None:
            # The loop may close in between: the restream is stopping.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(callback, *args)

    def _run(self, started: threading.Event, failed: list[BaseException]) -> None:
        """Run the server's loop until `stop()`."""
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(loop, started))
        except Exception as err:
            failed.append(err)
            started.set()
        finally:
            self._loop = None
            loop.close()

    async def _serve(self, loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
        self._stopping = asyncio.Event()
        self._ready = asyncio.Event()
        await super().start()
        self._loop = loop
        started.set()
        _LOGGER.debug("Restream listening on %s:%d", LOOPBACK, self.port)
        try:
            while True:
                try:
                    async with asyncio.timeout(KEEPALIVE):
                        await self._stopping.wait()
                    break
                except TimeoutError:
                    self._keepalive()
        finally:
            await super().stop()

    def _keepalive(self) -> None:
        """Send RTCP to the readers no media reached for a while (the device is away)."""
        quiet = time.monotonic() - KEEPALIVE
        for connection in self.playing(PATH):
            if connection.sent_at < quiet:
                connection.keepalive()
