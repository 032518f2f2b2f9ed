"""Pictures of moments: a run decoded from its keyframe, and the recorder's capture at a press."""

from __future__ import annotations

import asyncio
from functools import partial
import io
import logging
from pathlib import Path

import av
import pytest
from turbojpeg import TurboJPEG

from custom_components.local_doorbell.recording.capture import keyframe as keyframe_module
from custom_components.local_doorbell.recording.capture.keyframe import Pictures
from custom_components.local_doorbell.recording.capture.preroll import PrerollBuffer
from virtual_doorbell import VirtualDoorbell
from virtual_doorbell.picture import read_frame_counter

from .harness import FPS, decode, recording
from .synthetic import encode, load


def _counter(jpeg: bytes) -> int:
    return read_frame_counter(_jpeg_frame(jpeg))


def _jpeg_frame(jpeg: bytes) -> av.VideoFrame:
    container = av.open(io.BytesIO(jpeg), mode="r")
    try:  # not `with`: PyAV 16's stubs make a return inside it "missing" to mypy
        return next(container.decode(video=0))
    finally:
        container.close()


@pytest.mark.parametrize("codec", ["libx264", "libx265"])
def test_a_run_decodes_to_the_picture_of_its_last_packet(tmp_path: Path, codec: str) -> None:
    source = load(encode(tmp_path / "s.nut", 3.0, codec=codec, audio="pcm_mulaw"), wall=0.0)
    video = source.video()
    pictures = Pictures()
    # One long-lived decoder, run after run: each starts again from its own keyframe.
    for number in (0, 1, FPS - 1, FPS, 2 * FPS + 7, 5):
        buffer = PrerollBuffer(0)
        for packet in source.packets[: source.packets.index(video[number]) + 1]:
            buffer.append(packet)
        run = buffer.latest_run()
        assert run[0].keyframe
        assert len(run) == number % FPS + 1
        frame = pictures.decode(run, source.info)
        assert frame is not None
        assert read_frame_counter(frame) == number
        assert _counter(pictures.encode(frame)) == number
        assert _counter(pictures.encode(frame, 256)) == number  # a thumbnail keeps it too
    assert pictures.decode([video[1]], source.info) is None  # no keyframe to start from
    assert pictures.jpeg(video[FPS], source.info) is not None  # and it recovers


@pytest.fixture(params=["libjpeg-turbo", "FFmpeg"])
def encoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Pictures encoded by libjpeg-turbo, and by FFmpeg as where the library is missing."""
    if request.param == "FFmpeg":
        monkeypatch.setattr(keyframe_module, "_TURBOJPEG", None)
    return str(request.param)


@pytest.mark.parametrize(
    ("size", "max_width", "expected"),
    [
        ((1366, 768), None, (1360, 768)),  # chroma rows of 683: not a whole number of 4 bytes
        ((642, 362), 300, (296, 168)),
        ((320, 240), 640, (320, 240)),  # never scaled up
    ],
)
def test_any_size_encodes_the_picture_in_full_range(
    tmp_path: Path,
    encoder: str,
    size: tuple[int, int],
    max_width: int | None,
    expected: tuple[int, int],
) -> None:
    source = load(encode(tmp_path / "s.nut", 1.0, audio=None, size=size))
    pictures = Pictures()
    frame = pictures.decode(source.video()[:3], source.info)
    assert frame is not None
    picture = _jpeg_frame(pictures.encode(frame, max_width))
    assert (picture.width, picture.height) == expected
    # The same picture as FFmpeg makes it, in JPEG's full range (luma 0-255, where the
    # stream's runs 16-235), every plane: a row padded wrongly would shear the colours.
    reference = frame.reformat(*expected, "yuvj420p", interpolation="AREA").to_ndarray()
    difference = abs(picture.to_ndarray().astype(float) - reference.astype(float))
    assert difference.mean() < 3
    assert abs(picture.to_ndarray().mean() - reference.mean()) < 1


def test_without_libjpeg_turbo_ffmpeg_encodes(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A real failed load: the library is looked for where it is not.
    monkeypatch.setattr(
        keyframe_module, "TurboJPEG", partial(TurboJPEG, "/nonexistent/libturbojpeg.so.0")
    )
    with caplog.at_level(logging.WARNING):
        assert keyframe_module._load_turbojpeg() is None
    assert "libturbojpeg is missing" in caplog.text


async def test_capture_is_the_picture_at_the_moment_and_the_clips_thumbnail(
    doorbell: VirtualDoorbell, tmp_path: Path
) -> None:
    async with recording(doorbell, tmp_path) as (recorder, clips):
        frame = doorbell.current_frame()
        opened = recorder.trigger("ring")
        captured = recorder.capture()
        picture = await asyncio.wait_for(asyncio.wrap_future(captured), 5)
        mp4 = await asyncio.wait_for(asyncio.wrap_future(opened), 5)
        assert picture is not None
        # The picture the camera was sending at the moment (or the next, when the moment
        # fell at the end of its interval).
        assert 0 <= _counter(picture.jpeg) - frame <= 1
        # A trigger while the clip is open names that clip at once.
        assert recorder.trigger("motion").result(timeout=5) == mp4
        (result,) = await clips.wait(1)
    assert result.mp4 == mp4
    assert result.thumbnail is not None
    assert decode(result.thumbnail).counters == [_counter(picture.jpeg)]


@pytest.mark.usefixtures("hour_long_batches")
@pytest.mark.parametrize("audio", ["pcmu"])  # most packets after a moment are not pictures
async def test_with_sound_the_next_picture_answers_a_capture_at_once(
    doorbell: VirtualDoorbell, tmp_path: Path
) -> None:
    # After the sound that comes first after the moment, only the capture itself can have
    # the next picture handed on.
    async with recording(doorbell, tmp_path) as (recorder, _):
        frame = doorbell.current_frame()
        picture = await asyncio.wait_for(asyncio.wrap_future(recorder.capture()), 5)
        assert picture is not None
        assert 0 <= _counter(picture.jpeg) - frame <= 1


async def test_paused_or_stopped_the_answers_are_nothing(
    doorbell: VirtualDoorbell, tmp_path: Path
) -> None:
    async with recording(doorbell, tmp_path) as (recorder, clips):
        recorder.paused = True
        assert recorder.trigger("ring").result(timeout=0) is None
        assert recorder.capture().result(timeout=0) is None
        recorder.paused = False
        await asyncio.to_thread(recorder.stop)
        # Asked of a stopped recorder, they wait for a stream that will not come: stop()
        # answers what it leaves behind.
        waiting = recorder.capture(), recorder.trigger("ring")
        recorder.stop()
        assert [future.result(timeout=0) for future in waiting] == [None, None]
    assert clips.results == []


def _rss() -> int:
    """Return this process's resident memory in bytes."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise LookupError("VmRSS")


def test_full_size_pictures_keep_little_memory(tmp_path: Path) -> None:
    # Pictures at 1080p are 3 MiB each: a decoder that kept every picture of a run alive
    # grew its pool to a keyframe interval of them for good, and a full-size JPEG encoder
    # kept open (with slice threads) held ~30 MiB more.
    source = load(encode(tmp_path / "hd.nut", 2.0, audio=None, size=(1920, 1080)))
    video = source.video()
    pictures = Pictures()
    assert pictures.jpeg(video[0], source.info, 256) is not None  # opened, as when primed
    before = _rss()
    for _ in range(3):
        frame = pictures.decode(video[FPS : 2 * FPS], source.info)
        assert frame is not None
        jpeg = pictures.encode(frame)
        del frame
    assert _rss() - before < 12 << 20
    assert _counter(jpeg) == 2 * FPS - 1
