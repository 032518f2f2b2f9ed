"""A recorder against the virtual doorbell, and what its clips hold once decoded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
import itertools
from pathlib import Path
import threading
import time
from typing import Any

import av

from custom_components.local_doorbell.recording.capture.clip import ClipResult
from custom_components.local_doorbell.recording.capture.recorder import Recorder
from virtual_doorbell import VirtualDoorbell
from virtual_doorbell.video import read_frame_counter

FPS = 10  # the `doorbell` fixture's rate; its GOP is one second
# Pictures the device has sent that may not have reached the recorder yet: the post-roll
# counts from when the trigger came, by arrival (one interval, two on a loaded machine).
IN_FLIGHT = 2


async def wait_for(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll without blocking the loop the doorbell runs on; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@dataclass
class Clips:
    """What a recorder reported: clips, connection changes, and the paths it was given."""

    root: Path
    results: list[ClipResult] = field(default_factory=list)
    connection: list[bool] = field(default_factory=list)
    reserved: list[tuple[str, datetime]] = field(default_factory=list)
    override: list[Path | Exception] = field(default_factory=list)  # to hand out (raise) first
    lock: threading.Lock = field(default_factory=threading.Lock)
    broken: bool = False  # make `add` fail, as a buggy callback would

    def paths(self, trigger: str, start: datetime) -> tuple[Path, Path]:
        with self.lock:
            self.reserved.append((trigger, start))
            mp4 = self.override.pop(0) if self.override else None
        if isinstance(mp4, Exception):
            raise mp4
        if mp4 is None:
            mp4 = self.root / "clips" / f"{len(self.reserved)}-{trigger}.mp4"
        return mp4, mp4.with_suffix(".jpg")

    def add(self, result: ClipResult) -> None:
        if self.broken:
            raise RuntimeError("callback bug")
        with self.lock:
            self.results.append(result)

    def connected(self, value: bool) -> None:
        with self.lock:
            self.connection.append(value)

    async def wait(self, count: int, seconds: float = 10.0) -> list[ClipResult]:
        await wait_for(lambda: len(self.results) >= count, seconds)
        return list(self.results)


async def ready(recorder: Recorder) -> None:
    """Wait until the recorder streams and holds its full pre-roll."""
    await wait_for(lambda: recorder.connected)
    if recorder.pre_roll:
        await asyncio.sleep(recorder.pre_roll + 0.1)  # from a keyframe at least this old


@contextlib.asynccontextmanager
async def recording(
    doorbell: VirtualDoorbell, root: Path, *, wait: bool = True, **options: Any
) -> AsyncIterator[tuple[Recorder, Clips]]:
    """Run a recorder (1 s pre- and post-roll unless told) on the doorbell's main stream."""
    clips = Clips(root)
    recorder = Recorder(
        doorbell.rtsp_url(0),
        clip_paths=clips.paths,
        on_clip=clips.add,
        on_connection=clips.connected,
        **({"pre_roll": 1.0, "post_roll": 1.0} | options),
    )
    await asyncio.to_thread(recorder.start)
    try:
        if wait:
            await ready(recorder)
        yield recorder, clips
    finally:
        await asyncio.to_thread(recorder.stop)


@dataclass(frozen=True)
class Decoded:
    """What a clip file plays: frame counters and timestamps, audio codec and samples."""

    counters: list[int]
    times: list[float]  # presentation seconds
    audio: str | None
    audio_samples: int
    size: tuple[int, int]

    @property
    def consecutive(self) -> bool:
        return all(b == a + 1 for a, b in itertools.pairwise(self.counters))


def decode(path: Path) -> Decoded:
    """Decode a whole clip (or what a truncated one still holds)."""
    counters: list[int] = []
    times: list[float] = []
    samples = 0
    with av.open(str(path)) as container:
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        size = (container.streams.video[0].width, container.streams.video[0].height)
        with contextlib.suppress(av.FFmpegError):  # a cut file ends mid-fragment
            for packet in container.demux():
                # PyAV 16's stubs type decode() too narrowly; widen it for the checks below.
                frames: list[object] = [*packet.decode()]
                for frame in frames:
                    if isinstance(frame, av.VideoFrame):
                        counters.append(read_frame_counter(frame))
                        times.append(float(frame.time or 0.0))
                    elif isinstance(frame, av.AudioFrame):
                        samples += frame.samples
    return Decoded(counters, times, audio, samples, size)


def wait_for_sync(predicate: Callable[[], bool], seconds: float = 3.0) -> None:
    """Poll from a plain (not asyncio) test; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
