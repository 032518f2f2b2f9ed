"""Real media and recorded clips for the recording tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import count
from pathlib import Path

import av
import numpy as np

from custom_components.local_doorbell.recording.archive.clock import RetentionClock
from custom_components.local_doorbell.recording.archive.library import Clip, Library

FPS = 10
T0 = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0 not really a picture \xff\xd9"


def trusted_clock() -> RetentionClock:
    """Return a retention clock for tests whose times are all right.

    Between two readings, as much real time passes as the system clock says (up to decades).
    """
    return RetentionClock(count(0, 10**9).__next__)


def write_fragmented_mp4(path: Path, frames: int = 20, fps: int = FPS) -> Path:
    """Encode `frames` 64x64 H.264 pictures into a fragmented MP4, as the clip writer does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = 64
        stream.height = 64
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        # A keyframe every second gives several fragments, so truncation cuts one mid-way.
        stream.codec_context.gop_size = fps
        stream.codec_context.options = {"preset": "ultrafast", "x264-params": "scenecut=0"}
        for number in range(frames):
            picture = np.full((96, 64), number * 8 % 256, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            frame.pts = number
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def truncate(path: Path, keep: float = 0.6) -> Path:
    """Cut a file to a fraction of its size, as a crash during writing would."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


@dataclass(frozen=True, slots=True)
class FakeResult:
    """What the clip writer hands over: the shape of recording.capture.clip.ClipResult."""

    mp4: Path
    thumbnail: Path | None
    trigger: str
    start: datetime
    end: datetime
    duration: float
    size: int
    extended_by: frozenset[str] = frozenset()


def record_clip(
    library: Library,
    device: str = "AB12",
    trigger: str = "ring",
    start: datetime = T0,
    *,
    frames: int = 20,
    thumbnail: bool = True,
    extended_by: frozenset[str] = frozenset(),
) -> Clip:
    """Record a real clip the way the recorder does: reserve paths, write, add."""
    mp4, jpg = library.clip_paths(device, trigger, start)
    write_fragmented_mp4(mp4, frames)
    if thumbnail:
        jpg.write_bytes(JPEG)
    duration = frames / FPS
    result = FakeResult(
        mp4=mp4,
        thumbnail=jpg if thumbnail else None,
        trigger=trigger,
        start=start,
        end=start + timedelta(seconds=duration),
        duration=duration,
        size=mp4.stat().st_size,
        extended_by=extended_by,
    )
    return library.add(device, result)
