"""One clip: being written, then handed over as a `ClipResult`."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
from pathlib import Path

import av

from .keyframe import THUMBNAIL_WIDTH, Pictures
from .packet import Packet
from .streams import StreamInfo
from .writer import ClipWriter

_LOGGER = logging.getLogger(__name__)

ClipPaths = Callable[[str, datetime], tuple[Path, Path]]
"""Return where a clip (trigger, UTC start) goes: its MP4 and its JPEG thumbnail."""


def resolve[T](future: Future[T], value: T) -> None:
    """Answer a caller's future, unless the caller stopped waiting for it."""
    with contextlib.suppress(InvalidStateError):  # cancelled
        future.set_result(value)


@dataclass(frozen=True, slots=True)
class ClipResult:
    """A finished clip file: where it is, why it was recorded and what it holds."""

    mp4: Path
    thumbnail: Path | None  # None when no keyframe could be decoded or written
    trigger: str
    start: datetime  # UTC wall time of the first packet
    end: datetime  # UTC wall time of the last packet
    duration: float  # seconds of media
    size: int  # bytes on disk
    extended_by: frozenset[str] = frozenset()  # other events that made it last longer


class OpenClip:
    """A clip being recorded: its file opens at its first keyframe, errors end it early."""

    def __init__(
        self, trigger: str, trigger_wall: float, end_wall: float, pictures: Pictures
    ) -> None:
        """Describe the clip; nothing is written before its first keyframe."""
        self.trigger = trigger
        self.trigger_wall = trigger_wall
        self.end_wall = end_wall
        self.extended_by: set[str] = set()
        self.failed = False
        self._pictures = pictures
        self.writer: ClipWriter | None = None
        self._info: StreamInfo | None = None
        self._jpg: Path | None = None
        self._thumbnail: Path | None = None
        self._fallback: Packet | None = None  # the last keyframe before the trigger
        self._waiting: list[Future[Path | None]] = []  # told the MP4 once it is created

    def when_open(self, future: Future[Path | None]) -> None:
        """Answer `future` with the MP4's path once it is created, None if it never is."""
        if self.writer is not None or self.failed:
            resolve(future, None if self.writer is None else self.writer.path)
        else:
            self._waiting.append(future)

    def elapsed(self, packet: Packet) -> float:
        """Return how far into the clip a packet falls, in seconds."""
        return 0.0 if self.writer is None else self.writer.elapsed(packet)

    def write(self, packet: Packet, info: StreamInfo, paths: ClipPaths) -> None:
        """Write a packet, creating the file at the first keyframe; a failure ends the clip."""
        if self.failed:
            return
        try:
            if self.writer is None:
                if packet.stream != "video" or not packet.keyframe:
                    return
                self.writer = self._create(packet, info, paths)
                self._answer(self.writer.path)
            self.writer.write(packet)
        except Exception as err:  # disk full, no permission, or the library refusing a path
            _LOGGER.error("Could not write the %s clip: %s", self.trigger, err)
            self.failed = True
            self._answer(None)
            return
        if packet.stream == "video" and packet.keyframe and self._thumbnail is None:
            if packet.wall < self.trigger_wall:
                self._fallback = packet
            else:
                self._thumbnail = self._save_keyframe(packet)

    def offer_thumbnail(self, frame: av.VideoFrame) -> None:
        """Take a picture of a moment in the clip (a press) as its thumbnail, if it has none."""
        if self.writer is not None and not self.failed and self._thumbnail is None:
            self._thumbnail = self._save_thumbnail(
                lambda: self._pictures.encode(frame, THUMBNAIL_WIDTH)
            )

    def finish(self) -> ClipResult | None:
        """Close the file and describe it; None when nothing was ever created."""
        writer = self.writer
        self._answer(None)  # a clip that never opened
        if writer is None:
            return None
        try:
            writer.close()
        except Exception as err:  # the disk filled up or went away
            _LOGGER.error("Could not finish the clip %s: %s", writer.path, err)
        if self._thumbnail is None and self._fallback is not None:
            self._thumbnail = self._save_keyframe(self._fallback)
        try:
            size = writer.path.stat().st_size
        except OSError:
            size = 0
        return ClipResult(
            mp4=writer.path,
            thumbnail=self._thumbnail,
            trigger=self.trigger,
            start=datetime.fromtimestamp(writer.first_wall, UTC),
            end=datetime.fromtimestamp(writer.last_wall, UTC),
            duration=writer.duration,
            size=size,
            extended_by=frozenset(self.extended_by - {self.trigger}),
        )

    def _create(self, first: Packet, info: StreamInfo, paths: ClipPaths) -> ClipWriter:
        mp4, self._jpg = paths(self.trigger, datetime.fromtimestamp(first.wall, UTC))
        self._info = info
        mp4.parent.mkdir(parents=True, exist_ok=True)
        return ClipWriter(mp4, info)

    def _answer(self, path: Path | None) -> None:
        waiting, self._waiting = self._waiting, []
        for future in waiting:
            resolve(future, path)

    def _save_keyframe(self, keyframe: Packet) -> Path | None:
        assert self._info is not None
        info = self._info
        return self._save_thumbnail(lambda: self._pictures.jpeg(keyframe, info, THUMBNAIL_WIDTH))

    def _save_thumbnail(self, make: Callable[[], bytes | None]) -> Path | None:
        """Write the thumbnail `make` returns; None when that fails."""
        assert self._jpg is not None
        try:
            jpeg = make()
            if jpeg is None:
                return None
            self._jpg.parent.mkdir(parents=True, exist_ok=True)
            self._jpg.write_bytes(jpeg)
        except OSError as err:
            _LOGGER.error("Could not write the thumbnail %s: %s", self._jpg, err)
            return None
        return self._jpg
