"""A device's recorder: pre-roll, clips on triggers, thumbnails and the snapshot cache."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
from pathlib import Path
import queue
import threading
import time

from .clip import ClipResult
from .ingest import Ingest
from .keyframe import THUMBNAIL_WIDTH, SnapshotCache, keyframe_jpeg
from .packet import Packet
from .preroll import PrerollBuffer
from .streams import StreamInfo
from .writer import ClipWriter

_LOGGER = logging.getLogger(__name__)

_TICK = 0.25  # seconds between looks at an open clip while no packet arrives
_QUEUE_LIMIT = 4096  # packets waiting for the disk; a minute of video and audio
_STALL_GRACE = 1.0  # seconds past a clip's end before it is closed without new packets


@dataclass(frozen=True, slots=True)
class _Trigger:
    reason: str
    wall: float


_WAKE = object()  # look at the state now (paused changed, stopping)


@dataclass(slots=True)
class _Clip:
    """A clip being recorded; its writer opens at its first keyframe."""

    trigger: str
    trigger_wall: float
    end_wall: float
    writer: ClipWriter | None = None
    info: StreamInfo | None = None
    mp4: Path | None = None
    jpg: Path | None = None
    thumbnail: Path | None = None
    fallback: Packet | None = None  # the last keyframe before the trigger
    failed: bool = False


class Recorder:
    """Records clips of one device's RTSP stream, with pre-roll, on demand from any thread.

    `start()` starts an ingest thread and a recorder thread; `stop()` joins both, finishing an
    open clip. `clip_paths` and `on_clip` are called on the recorder thread, `on_connection`
    on the ingest thread.
    """

    def __init__(
        self,
        url: str,
        *,
        clip_paths: Callable[[str, datetime], tuple[Path, Path]],
        on_clip: Callable[[ClipResult], None],
        on_connection: Callable[[bool], None] = lambda connected: None,
        pre_roll: float = 5.0,
        post_roll: float = 10.0,
        max_length: float = 120.0,
        watchdog: float = 10.0,
    ) -> None:
        """Describe the recorder; nothing runs before `start()`."""
        if pre_roll < 0 or post_roll < 0 or max_length <= 0:
            raise ValueError("pre_roll and post_roll must be ≥ 0, max_length > 0")
        self._clip_paths = clip_paths
        self._on_clip = on_clip
        self.pre_roll = pre_roll
        self.post_roll = post_roll
        self.max_length = max_length
        self._ingest = Ingest(
            url,
            on_packet=self._from_ingest,
            on_streams=self._streams_from_ingest,
            on_connection=on_connection,
            watchdog=watchdog,
        )
        self._queue: queue.Queue[object] = queue.Queue(_QUEUE_LIMIT)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._paused = False
        self._overflowing = False
        self._snapshots = SnapshotCache()
        # Written by the ingest thread, read by any: a reference swap is atomic.
        self._latest: tuple[Packet, StreamInfo] | None = None
        self._ingest_info: StreamInfo | None = None
        # Owned by the recorder thread.
        self._buffer = PrerollBuffer(pre_roll)
        self._info: StreamInfo | None = None
        self._clip: _Clip | None = None

    @property
    def connected(self) -> bool:
        """Tell whether media is flowing from the device."""
        return self._ingest.connected

    @property
    def paused(self) -> bool:
        """Tell whether recording is paused (privacy mode, full storage)."""
        return self._paused

    @paused.setter
    def paused(self, value: bool) -> None:
        """Pause (finish the open clip, forget the pre-roll) or resume recording."""
        self._paused = value
        self._put(_WAKE)

    def start(self) -> None:
        """Connect and start recording what triggers ask for."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()
        self._ingest.start()

    def stop(self) -> None:
        """Disconnect, finish an open clip and join both threads (within about two seconds)."""
        self._ingest.stop()
        self._stopping.set()
        self._put(_WAKE)
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def trigger(self, reason: str) -> None:
        """Start a clip (with pre-roll), or make the open one last `post_roll` from now."""
        if not self._paused:
            self._put(_Trigger(reason, time.time()))

    def latest_jpeg(self) -> bytes | None:
        """Return the newest keyframe as JPEG while media flows; decoded once per keyframe."""
        latest = self._latest
        if latest is None or not self.connected:
            return None
        return self._snapshots.jpeg(*latest)

    # --- the ingest thread ------------------------------------------------------------------

    def _streams_from_ingest(self, info: StreamInfo) -> None:
        self._ingest_info = info
        self._put(info)

    def _from_ingest(self, packet: Packet) -> None:
        if packet.keyframe and packet.stream == "video" and self._ingest_info is not None:
            self._latest = (packet, self._ingest_info)
        self._put(packet)

    def _put(self, item: object) -> None:
        """Queue an item for the recorder thread; drop it when the disk is far behind."""
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            if not self._overflowing:
                _LOGGER.warning("Recording cannot keep up with the stream; dropping packets")
            self._overflowing = True
        else:
            self._overflowing = False

    # --- the recorder thread ----------------------------------------------------------------

    def _run(self) -> None:
        """Handle packets, stream changes and triggers until stopped and drained."""
        while not (self._stopping.is_set() and self._queue.empty()):
            try:
                item = self._queue.get(timeout=_TICK)
            except queue.Empty:
                item = _WAKE
            try:
                self._handle(item)
                self._check()
            except Exception:
                # A bug must cost at most the clip at hand, never the recording thread.
                _LOGGER.exception("Recording failed")
                if self._clip is not None:
                    self._clip.failed = True
        if self._clip is not None:
            self._finish()

    def _handle(self, item: object) -> None:
        if isinstance(item, Packet):
            self._on_packet(item)
        elif isinstance(item, StreamInfo):
            self._on_streams(item)
        elif isinstance(item, _Trigger):
            self._on_trigger(item)

    def _on_streams(self, info: StreamInfo) -> None:
        """Keep going across a reconnection, unless the stream's parameters changed."""
        if info != self._info:
            if self._clip is not None and self._clip.writer is not None:
                self._finish()
            self._buffer.clear()
        self._info = info

    def _on_trigger(self, trigger: _Trigger) -> None:
        if self._paused:
            return
        end = trigger.wall + self.post_roll
        clip = self._clip
        if clip is not None:
            clip.end_wall = max(clip.end_wall, end)
            return
        _LOGGER.debug("Clip started by %s", trigger.reason)
        clip = self._clip = _Clip(trigger.reason, trigger.wall, end)
        for packet in self._buffer.snapshot():
            self._write(clip, packet)

    def _on_packet(self, packet: Packet) -> None:
        if self._paused:
            return
        self._buffer.append(packet)
        clip = self._clip
        if clip is None:
            return
        writer = clip.writer
        if (
            writer is not None
            and packet.stream == "video"
            and writer.elapsed(packet) >= self.max_length
        ):
            self._finish()
            return
        self._write(clip, packet)
        if packet.wall >= clip.end_wall and packet.stream == "video":
            self._finish()

    def _check(self) -> None:
        """Finish the open clip when paused, failed, or over while no packet came."""
        if self._paused:
            self._buffer.clear()  # nothing from a private moment may reach a later clip
        clip = self._clip
        if clip is not None and (
            self._paused or clip.failed or time.time() > clip.end_wall + _STALL_GRACE
        ):
            self._finish()

    def _write(self, clip: _Clip, packet: Packet) -> None:
        """Write a packet to the clip, opening its file at the first keyframe."""
        if clip.failed:
            return
        try:
            if clip.writer is None:
                if packet.stream != "video" or not packet.keyframe or self._info is None:
                    return
                clip.writer = self._open(clip, packet)
            clip.writer.write(packet)
        except Exception as err:  # disk full, no permission, or the library refusing a path
            _LOGGER.error("Could not write the %s clip %s: %s", clip.trigger, clip.mp4 or "", err)
            clip.failed = True
            return
        if packet.stream == "video" and packet.keyframe:
            self._thumbnail(clip, packet)

    def _open(self, clip: _Clip, first: Packet) -> ClipWriter:
        assert self._info is not None
        start = datetime.fromtimestamp(first.wall, UTC)
        clip.mp4, clip.jpg = self._clip_paths(clip.trigger, start)
        clip.info = self._info
        clip.mp4.parent.mkdir(parents=True, exist_ok=True)
        return ClipWriter(clip.mp4, self._info)

    def _thumbnail(self, clip: _Clip, keyframe: Packet) -> None:
        """Make the thumbnail from the first keyframe at or after the trigger."""
        if clip.thumbnail is not None:
            return
        if keyframe.wall < clip.trigger_wall:
            clip.fallback = keyframe
            return
        clip.thumbnail = self._save_thumbnail(clip, keyframe)

    def _save_thumbnail(self, clip: _Clip, keyframe: Packet) -> Path | None:
        assert clip.jpg is not None
        assert clip.info is not None
        try:
            jpeg = keyframe_jpeg(keyframe, clip.info, THUMBNAIL_WIDTH)
            if jpeg is None:
                return None
            clip.jpg.parent.mkdir(parents=True, exist_ok=True)
            clip.jpg.write_bytes(jpeg)
        except OSError as err:
            _LOGGER.error("Could not write the thumbnail %s: %s", clip.jpg, err)
            return None
        return clip.jpg

    def _finish(self) -> None:
        """Close the open clip and report what was written."""
        clip, self._clip = self._clip, None
        if clip is None or clip.writer is None:
            return
        writer = clip.writer
        try:
            writer.close()
        except Exception as err:  # the disk filled up or went away
            _LOGGER.error("Could not finish the clip %s: %s", writer.path, err)
        if clip.thumbnail is None and clip.fallback is not None:
            clip.thumbnail = self._save_thumbnail(clip, clip.fallback)
        try:
            size = writer.path.stat().st_size
        except OSError:
            size = 0
        result = ClipResult(
            mp4=writer.path,
            thumbnail=clip.thumbnail,
            trigger=clip.trigger,
            start=datetime.fromtimestamp(writer.first_wall, UTC),
            end=datetime.fromtimestamp(writer.last_wall, UTC),
            duration=writer.duration,
            size=size,
        )
        _LOGGER.debug("Clip finished: %s", result)
        try:
            self._on_clip(result)
        except Exception:
            _LOGGER.exception("The clip callback failed")
