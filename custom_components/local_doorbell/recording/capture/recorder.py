"""A device's recorder: pre-roll, clips on triggers, pictures of moments, the snapshot cache."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
import logging
from pathlib import Path
import time
from typing import Protocol

from .clip import ClipPaths, ClipResult, OpenClip, resolve
from .ingest import Ingest
from .keyframe import THUMBNAIL_WIDTH, Picture, Pictures, SnapshotCache
from .packet import Packet
from .preroll import PrerollBuffer
from .streams import StreamInfo

_LOGGER = logging.getLogger(__name__)

_STALL_GRACE = 1.0  # seconds past a clip's end before it is closed without new packets
_PICTURE_WAIT = 1.0  # seconds without a picture after a capture's moment before it fails


class Live(Protocol):
    """Who takes the packets live as well, privacy mode or not: the restream."""

    on_watched: Callable[[bool], None]  # set by the recorder: whether anyone watches now

    def on_streams(self, info: StreamInfo) -> None:
        """Take a connection's stream parameters, ahead of its packets."""

    def on_packet(self, packet: Packet) -> None:
        """Take a packet."""

    def on_batch(self) -> None:
        """Hear that the packets taken so far make a batch: the moment to send them."""

    def on_connection(self, up: bool) -> None:
        """Hear that media started or stopped flowing."""


@dataclass(frozen=True, slots=True)
class _Trigger:
    reason: str
    wall: float
    clip: Future[Path | None] = field(default_factory=Future)


@dataclass(frozen=True, slots=True)
class _Capture:
    wall: float
    picture: Future[Picture | None] = field(default_factory=Future)


@dataclass(slots=True)
class _Pause:
    """A private moment, by wall time: nothing filmed in it may reach a clip."""

    start: float
    end: float | None = None  # None while it lasts


class Recorder:
    """Records clips of one device's RTSP stream, with pre-roll, on demand from any thread.

    Everything runs on the ingest's one thread per device: reading, the pre-roll, writing
    (handing packets to another thread would cost more). `clip_paths` and `on_clip` are
    called on that thread, `on_connection` too; `stop()` joins it and then finishes an open
    clip on the caller's thread. The ingest hands packets on in batches, a moment after they
    arrived: triggers and pauses apply to packets by their arrival time, not by when they
    are handled, and cut the batch short (as does a clip's end), so that a clip opens and
    closes within a picture of the moment. The futures that `trigger()` and `capture()`
    return are answered on that thread too.
    """

    def __init__(
        self,
        url: str,
        *,
        clip_paths: ClipPaths,
        on_clip: Callable[[ClipResult], None],
        on_connection: Callable[[bool], None] = lambda connected: None,
        pre_roll: float = 5.0,
        post_roll: float = 10.0,
        max_length: float = 120.0,
        watchdog: float = 10.0,
        live: Live | None = None,
    ) -> None:
        """Describe the recorder; nothing runs before `start()`.

        `live` gets every packet as well, on the ingest's thread; while it says someone
        watches, packets come in batches of a tenth of a second instead of a second.
        """
        if pre_roll < 0 or post_roll < 0 or max_length <= 0:
            raise ValueError("pre_roll and post_roll must be ≥ 0, max_length > 0")
        self._clip_paths = clip_paths
        self._on_clip = on_clip
        self.pre_roll = pre_roll
        self.post_roll = post_roll
        self.max_length = max_length
        self._live = live
        self._on_connection = on_connection
        self._ingest = Ingest(
            url,
            on_packet=self._on_packet,
            on_streams=self._on_streams,
            on_batch=self._on_batch,
            on_connection=self._connection,
            on_idle=self._on_idle,
            watchdog=watchdog,
        )
        # Written by any thread, read by the ingest's; appends and pops are atomic.
        self._triggers: deque[_Trigger] = deque()
        self._captures: deque[_Capture] = deque()
        self._pauses: deque[_Pause] = deque()  # those the ingest has not seen the end of
        self._paused = False
        self._pictures = Pictures()
        self._snapshots = SnapshotCache(self._pictures)
        self._latest: tuple[Packet, StreamInfo] | None = None  # read by any thread
        # Owned by the ingest thread.
        self._buffer = PrerollBuffer(pre_roll)
        self._info: StreamInfo | None = None
        self._clip: OpenClip | None = None
        self._primed = False
        if live is not None:
            live.on_watched = self._watched

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
        if value == self._paused:
            return
        now = time.time()
        if value:
            self._pauses.append(_Pause(now))
        else:
            self._pauses[-1].end = now
        self._paused = value
        self._ingest.wake(now)

    def start(self) -> None:
        """Connect and record what triggers ask for."""
        self._ingest.start()

    def stop(self) -> None:
        """Disconnect and join the thread (within about a second), then finish an open clip."""
        self._ingest.stop()
        self._finish()
        self._drop(time.time())

    def trigger(self, reason: str) -> Future[Path | None]:
        """Start a clip (with pre-roll), or make the open one last `post_roll` from now.

        The future tells the clip's MP4 once the file is created (at once when a clip was
        open already), or None when there will be none (paused, failed, stopped).
        """
        trigger = _Trigger(reason, time.time())
        if self._paused:
            resolve(trigger.clip, None)
        else:
            self._triggers.append(trigger)
            self._ingest.wake(trigger.wall)  # the first packet after it applies it
        return trigger.clip

    def capture(self) -> Future[Picture | None]:
        """Ask for a full-size picture of this moment: the first to arrive after it.

        The demuxer hands a picture on only once the next one begins to arrive, so that is
        the picture the camera was sending at the moment. It is decoded from the pre-roll
        (its keyframe and the pictures up to it) and becomes the thumbnail of the open clip
        if that has none yet. The future tells it, or None when there is none (paused, or
        no picture within `_PICTURE_WAIT`).
        """
        capture = _Capture(time.time())
        if self._paused:
            resolve(capture.picture, None)
        else:
            self._captures.append(capture)
            self._ingest.wake(capture.wall)
        return capture.picture

    def latest_jpeg(self) -> bytes | None:
        """Return the newest keyframe as JPEG while media flows; decoded once per keyframe."""
        latest = self._latest
        if latest is None or not self.connected:
            return None
        return self._snapshots.jpeg(*latest)

    def _watched(self, watched: bool) -> None:
        """Hand packets on in short batches while someone watches (from any thread)."""
        self._ingest.live = watched

    # --- on the ingest thread ---------------------------------------------------------------

    def _connection(self, up: bool) -> None:
        if self._live is not None:
            self._live.on_connection(up)
        self._on_connection(up)

    def _on_streams(self, info: StreamInfo) -> None:
        """Keep going across a reconnection, unless the stream's parameters changed."""
        if self._live is not None:
            self._live.on_streams(info)
        if info != self._info:
            if self._clip is not None and self._clip.writer is not None:
                self._finish()
            self._buffer.clear()
        self._info = info

    def _on_packet(self, packet: Packet) -> None:
        if self._live is not None:
            try:
                self._live.on_packet(packet)
            except Exception:
                _LOGGER.exception("Live view failed")  # never the recording's loss
        try:
            if packet.keyframe and packet.stream == "video" and self._info is not None:
                self._latest = (packet, self._info)
                if not self._primed:
                    self._prime(packet, self._info)
            self._take(packet)
        except Exception:
            # A bug must cost at most the clip at hand, never the recording.
            _LOGGER.exception("Recording failed")
            if self._clip is not None:
                self._clip.failed = True

    def _on_batch(self) -> None:
        if self._live is not None:
            self._live.on_batch()

    def _on_idle(self) -> None:
        """Look at triggers, the pause and the open clip while no packet comes."""
        now = time.time()
        if self._paused:
            self._forget(now)
        else:
            self._housekeep(now)
        clip = self._clip
        if clip is not None and now > clip.end_wall + _STALL_GRACE:
            self._finish()

    def _prime(self, keyframe: Packet, info: StreamInfo) -> None:
        """Open the decoder and make a first thumbnail now, not at the first press.

        A process's first picture pays one-off costs (the decoder's opening, the scaler's
        and the JPEG encoder's first use) that would otherwise fall on the first clip.
        """
        self._primed = True
        frame = self._pictures.decode([keyframe], info)
        if frame is not None:
            self._pictures.encode(frame, THUMBNAIL_WIDTH)

    def _take(self, packet: Packet) -> None:
        """Buffer a packet and write it to the open clip, which it may end."""
        if self._pauses and self._private(packet.wall):
            self._forget(packet.wall)
            return
        self._housekeep(packet.wall)
        self._buffer.append(packet)
        if self._captures and self._captures[0].wall <= packet.wall:
            if packet.stream == "video":
                self._answer_captures(packet.wall)
            else:
                self._ingest.wake()  # the next picture answers them
        clip = self._clip
        if clip is None:
            return
        if packet.stream == "video" and clip.elapsed(packet) >= self.max_length:
            self._finish()
            return
        self._write(clip, packet)
        # The first picture past the end is the clip's last; sound alone ends it a bit later.
        late = packet.wall - clip.end_wall
        if late >= 0:
            if packet.stream == "video" or late > _STALL_GRACE:
                self._finish()
            else:
                self._ingest.wake()  # the next picture ends it

    def _private(self, wall: float) -> bool:
        """Tell whether a moment falls in a pause; forget the pauses that ended before it."""
        while self._pauses:
            pause = self._pauses[0]
            if wall < pause.start:
                return False
            if pause.end is None or wall <= pause.end:
                return True
            self._pauses.popleft()
        return False

    def _forget(self, wall: float) -> None:
        """Finish the open clip and forget the pre-roll, triggers and captures up to `wall`."""
        self._buffer.clear()  # nothing from a private moment may reach a later clip
        self._finish()
        self._drop(wall)

    def _drop(self, wall: float) -> None:
        """Answer the triggers and captures up to `wall` with nothing."""
        while self._triggers and self._triggers[0].wall <= wall:
            resolve(self._triggers.popleft().clip, None)
        while self._captures and self._captures[0].wall <= wall:
            resolve(self._captures.popleft().picture, None)

    def _housekeep(self, wall: float) -> None:
        """End a failed clip, apply the triggers up to `wall`, give up on stale captures."""
        if self._clip is not None and self._clip.failed:
            self._finish()
        while self._triggers and self._triggers[0].wall <= wall:
            self._start(self._triggers.popleft())
        while self._captures and self._captures[0].wall < wall - _PICTURE_WAIT:
            resolve(self._captures.popleft().picture, None)

    def _answer_captures(self, wall: float) -> None:
        """Answer the captures up to `wall` with the picture just buffered, which arrived then."""
        picture = None
        while self._captures and self._captures[0].wall <= wall:
            picture = picture or self._picture(wall)
            resolve(self._captures.popleft().picture, picture)

    def _start(self, trigger: _Trigger) -> None:
        """Start a clip from the pre-roll, or extend the open one."""
        end = trigger.wall + self.post_roll
        self._ingest.wake(end)
        if self._clip is not None:
            self._clip.end_wall = max(self._clip.end_wall, end)
            self._clip.extended_by.add(trigger.reason)
            self._clip.when_open(trigger.clip)
            return
        _LOGGER.debug("Clip started by %s", trigger.reason)
        clip = self._clip = OpenClip(trigger.reason, trigger.wall, end, self._pictures)
        clip.when_open(trigger.clip)
        for packet in self._buffer.snapshot():
            self._write(clip, packet)

    def _picture(self, wall: float) -> Picture | None:
        """Return the newest picture buffered, which arrived at `wall`; offer it to the clip."""
        run = self._buffer.latest_run()
        if not run or self._info is None:
            return None
        frame = self._pictures.decode(run, self._info)
        if frame is None:
            return None
        if self._clip is not None:
            self._clip.offer_thumbnail(frame)
        return Picture(self._pictures.encode(frame), wall)

    def _write(self, clip: OpenClip, packet: Packet) -> None:
        if self._info is not None:
            clip.write(packet, self._info, self._clip_paths)

    def _finish(self) -> None:
        """Close the open clip and hand over what was written."""
        clip, self._clip = self._clip, None
        result = None if clip is None else clip.finish()
        if result is None:
            return
        _LOGGER.debug("Clip finished: %s", result)
        try:
            self._on_clip(result)
        except Exception:
            _LOGGER.exception("The clip callback failed")
