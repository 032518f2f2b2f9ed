"""One RTSP connection per device, demuxed by PyAV on its own thread; packets are kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
import heapq
import logging
import math
import threading
import time
import traceback

import av
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.video.stream import VideoStream

from ...devices.backoff import Backoff
from ...privacy.logsafe import mask_url
from .keyframe import decode_keyframe
from .packet import AvPacket, Packet, StreamKind
from .startup import Demuxed, Startup
from .streams import StreamInfo, as_fraction, describe_streams
from .timeline import Timeline

_LOGGER = logging.getLogger(__name__)

_IDLE_EVERY = 0.5  # seconds between `on_idle` calls while waiting to reconnect
# Packets are handled in batches of this many seconds: the Python that handles a packet
# costs several times more when it runs cold, once per packet, than in a warm loop. A
# `wake()` cuts a batch short where a moment matters (a trigger, a clip's end).
_BATCH = 1.0
_BATCH_PACKETS = 128
# While someone watches live, batches of this many seconds: each one wakes the restream's
# thread, which costs more than the packets it carries (pairs of pictures at 15 fps).
LIVE_BATCH = 0.1


def _time_base(stream: VideoStream | AudioStream) -> Fraction:
    return as_fraction(stream.time_base, Fraction(1, 90_000))


@dataclass(slots=True)
class _Connection:
    """One opened stream: its tracks and, from its first keyframe on, their parameters."""

    video: VideoStream
    audio: AudioStream | None
    startup: Startup
    last_packet: float  # time.monotonic() when the last batch was taken, or it was opened
    info: StreamInfo | None = None


class Ingest:
    """Reads a device's RTSP stream on a daemon thread, reconnecting with back-off.

    Packets reach `on_packet` on that thread, with monotonic, continuous timestamps, each
    connection's from its first video keyframe on, in batches up to `_BATCH` seconds after
    they arrived (`Packet.wall` says when); `on_streams` precedes them with the
    connection's codec parameters, and until then each packet is handed on as it comes.
    `wake()` asks for the batch to be handed on early, and while `live` is set (someone
    watches) batches end `LIVE_BATCH` seconds after the last, with the first packet to
    arrive then; `on_batch` follows each batch. `on_connection` says when media starts and
    stops flowing; `on_idle` is called about once a second while no packet comes.
    """

    def __init__(
        self,
        url: str,
        *,
        on_packet: Callable[[Packet], None],
        on_connection: Callable[[bool], None],
        on_streams: Callable[[StreamInfo], None] = lambda info: None,
        on_batch: Callable[[], None] = lambda: None,
        on_idle: Callable[[], None] = lambda: None,
        watchdog: float = 10.0,
        backoff_base: float = 1.0,
        io_timeout: float = 1.0,
    ) -> None:
        """Describe the connection; nothing is opened before `start()`."""
        self._url = url
        self._masked = mask_url(url)
        self._on_packet = on_packet
        self._on_connection = on_connection
        self._on_streams = on_streams
        self._on_batch = on_batch
        self._on_idle = on_idle
        self._watchdog = watchdog
        self._backoff_base = backoff_base
        self._io_timeout = io_timeout
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._connected: bool | None = None  # None until the first attempt ends
        self._timelines: dict[StreamKind, Timeline] = {}
        self._wake_lock = threading.Lock()
        self._wakes: list[float] = []  # a heap of wall times, guarded by the lock
        self._wake_at = math.inf  # the earliest of them, read per packet without the lock
        self._batch = _BATCH

    @property
    def live(self) -> bool:
        """Tell whether packets are handed on in the short batches of live view."""
        return self._batch == LIVE_BATCH

    @live.setter
    def live(self, value: bool) -> None:
        """Hand packets on in short batches (from now on, the held batch too) or long ones."""
        self._batch = LIVE_BATCH if value else _BATCH
        if value:
            self.wake()

    @property
    def connected(self) -> bool:
        """Tell whether media is flowing."""
        return self._connected is True

    def start(self) -> None:
        """Start the thread."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(
            target=self._run, name=f"ingest {self._masked}", daemon=True
        )
        self._thread.start()

    def wake(self, at: float = 0.0) -> None:
        """Hand on the held packets with the first to arrive at or after `at` (time.time()).

        By default with the next packet; from any thread. Wakes that come to nothing cost
        only a batch handed on early.
        """
        with self._wake_lock:
            heapq.heappush(self._wakes, at)
            self._wake_at = self._wakes[0]

    def stop(self) -> None:
        """Stop the thread and wait for it: within about `io_timeout`, even mid-connect."""
        self._stopping.set()
        self.wake()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        """Connect, read, and reconnect after a growing pause until stopped."""
        try:
            self._connect_and_read()
        except Exception as err:  # a bug; FFmpeg's errors carry the URL, so not a raw trace
            trace = "".join(traceback.format_exception(err))
            _LOGGER.error("Recording stream %s failed: %s", self._masked, self._redact(trace))
        self._set_connected(False)

    def _connect_and_read(self) -> None:
        backoff = Backoff(self._backoff_base)
        io_timeout = self._io_timeout
        while True:
            began = time.monotonic()
            opened = self._open(io_timeout)
            if isinstance(opened, str):
                if time.monotonic() - began >= io_timeout:
                    # The device connects but answers slowly: give the next attempt longer.
                    opened = f"no answer within {io_timeout:g} s"
                    io_timeout = min(io_timeout * 2, max(self._watchdog, io_timeout))
                self._lost(opened)
            else:
                try:
                    flowed = self._read(opened)
                finally:
                    opened.close()
                if flowed:
                    backoff.reset()
                    io_timeout = self._io_timeout
            if self._pause(backoff.next()):
                break

    def _pause(self, seconds: float) -> bool:
        """Wait before reconnecting, idle now and then; return whether stop() was called."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._call(self._on_idle)
            if self._stopping.wait(min(left, _IDLE_EVERY)):
                return True
        return self._stopping.is_set()

    def _open(self, io_timeout: float) -> InputContainer | str:
        """Open the stream, or return why that failed."""
        # PyAV's own deadline interrupts whatever FFmpeg is doing, a packet half read
        # included, which garbles the stream: it is only the last resort, against a device
        # that trickles bytes but never a packet.
        deadline = self._watchdog + io_timeout
        try:
            return av.open(self._url, options=self._options(io_timeout), timeout=(deadline, None))
        except (av.FFmpegError, OSError) as err:
            return self._reason(err)

    @staticmethod
    def _options(io_timeout: float) -> dict[str, str]:
        return {
            "rtsp_transport": "tcp",
            # A socket read gives up after this much silence (never while data flows), so
            # `stop()` and the watchdog get a look in, connecting or streaming.
            "timeout": str(round(io_timeout * 1_000_000)),
            # The SDP and the first keyframe tell everything; probe no further.
            "analyzeduration": "1",
            "probesize": "32",
        }

    def _read(self, container: InputContainer) -> bool:
        """Demux until the stream ends, fails or falls silent; return whether media flowed."""
        if not container.streams.video:
            self._lost("the stream has no video")
            return False
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        startup = Startup(
            probed=bool(video.codec_context.width),  # else the open timeout cut the probe
            video_time_base=_time_base(video),
            audio_time_base=None if audio is None else _time_base(audio),
        )
        opened = time.monotonic()
        connection = _Connection(video, audio, startup, opened)
        streams = [video] if audio is None else [video, audio]
        batch: list[tuple[AvPacket, float]] = []
        handle_at = 0.0
        reason = ""
        while not self._stopping.is_set():
            try:
                for packet in container.demux(streams):
                    wall = time.time()
                    batch.append((packet, wall))
                    if wall < handle_at and wall < self._wake_at and len(batch) < _BATCH_PACKETS:
                        continue
                    if wall >= self._wake_at:
                        self._woken(wall)
                    self._take(connection, batch)
                    handle_at = wall + self._batch if connection.info is not None else 0.0
                    if connection.info is None and time.monotonic() - opened > self._watchdog:
                        reason = f"no keyframe in {self._watchdog:g} s"
                        break
                    if self._stopping.is_set():
                        break
                else:
                    reason = "the device ended the stream"
                break
            except TimeoutError:
                # A silent moment; only a silence as long as the watchdog is fatal.
                self._take(connection, batch)
                if time.monotonic() - connection.last_packet >= self._watchdog:
                    reason = f"no media for {self._watchdog:g} s"
                    break
                self._call(self._on_idle)
            except (av.FFmpegError, OSError) as err:
                reason = self._reason(err)
                break
        self._take(connection, batch)  # what came before the end
        if reason:  # reported outside the handlers: a callback's trace must not chain the URL
            self._lost(reason)
        return connection.info is not None

    def _woken(self, wall: float) -> None:
        """Forget the wakes up to `wall`: the batch is handed on now."""
        with self._wake_lock:
            while self._wakes and self._wakes[0] <= wall:
                heapq.heappop(self._wakes)
            self._wake_at = self._wakes[0] if self._wakes else math.inf

    def _take(self, connection: _Connection, batch: list[tuple[AvPacket, float]]) -> None:
        """Hand on a batch of packets, emptying it, once the connection has started."""
        if not batch:
            return
        connection.last_packet = time.monotonic()
        video, startup = connection.video, connection.startup
        for data, wall in batch:
            if not data.size:
                continue
            ready = startup.take(
                Demuxed(
                    kind="video" if data.stream is video else "audio",
                    data=data,
                    pts=data.pts,
                    dts=data.dts,
                    duration=data.duration or 0,
                    keyframe=data.is_keyframe,
                    wall=wall,
                )
            )
            if connection.info is None:
                if not ready:
                    continue
                if not self._connect(connection, bytes(ready[0].data)):
                    startup.reset()
                    continue
            for timed in ready:
                self._forward(timed)
        batch.clear()
        self._call(self._on_batch)

    def _connect(self, connection: _Connection, keyframe: bytes) -> bool:
        """Describe a new connection's streams at its first keyframe and announce them."""
        video, audio = connection.video, connection.audio
        size = (video.codec_context.width, video.codec_context.height)
        if not all(size):
            # The probe ended before it saw a picture: read the size from one.
            extradata = video.codec_context.extradata or b""
            frame = decode_keyframe(video.codec_context.name, extradata, keyframe)
            if frame is None:
                return False
            size = (frame.width, frame.height)
        info = connection.info = describe_streams(video, audio, size)
        self._timeline("video", video)
        if audio is not None:
            self._timeline("audio", audio)
        self._call(self._on_streams, info)
        self._set_connected(True)
        return True

    def _timeline(self, kind: StreamKind, stream: VideoStream | AudioStream) -> None:
        """Prepare a stream's timeline for a new connection's clock."""
        time_base = _time_base(stream)
        rate = stream.average_rate if isinstance(stream, VideoStream) else None
        period = 1 / as_fraction(rate, Fraction(50))  # audio: 20 ms, as cameras send G.711
        step = round(period / time_base)
        if kind in self._timelines:
            self._timelines[kind].restart(time_base, step)
        else:
            self._timelines[kind] = Timeline(time_base, step)

    def _forward(self, packet: Demuxed) -> None:
        """Put a packet on its stream's continuous timeline and hand it on."""
        timeline = self._timelines[packet.kind]
        stamps = timeline.place(packet.pts, packet.dts, packet.duration, packet.wall)
        if stamps is None:
            return
        placed = Packet(
            stream=packet.kind,
            data=packet.data,
            pts=stamps[0],
            dts=stamps[1],
            duration=packet.duration,
            time_base=timeline.time_base,
            keyframe=packet.keyframe,
            wall=packet.wall,
        )
        self._call(self._on_packet, placed)

    def _lost(self, reason: str) -> None:
        """Note a failed or ended connection; log only the first of a run of failures."""
        if self._connected is not False and not self._stopping.is_set():
            _LOGGER.warning("Recording stream %s is down: %s", self._masked, reason)
        else:
            _LOGGER.debug("Recording stream %s: %s", self._masked, reason)
        self._set_connected(False)

    def _set_connected(self, connected: bool) -> None:
        if connected == self._connected:
            return
        if connected and self._connected is False:
            _LOGGER.info("Recording stream %s is back", self._masked)
        self._connected = connected
        self._call(self._on_connection, connected)

    def _reason(self, err: BaseException) -> str:
        """Return what went wrong, without the URL FFmpeg's errors repeat."""
        return self._redact(str(getattr(err, "strerror", None) or err))

    def _redact(self, text: str) -> str:
        return text.replace(self._url, self._masked)

    @staticmethod
    def _call[*T](callback: Callable[[*T], None], *args: *T) -> None:
        """Run a callback; its bugs are logged, never allowed to stop the ingest."""
        try:
            callback(*args)
        except Exception:
            _LOGGER.exception("Ingest callback %r failed", callback)
