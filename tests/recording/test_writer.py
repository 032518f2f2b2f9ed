"""The clip writer and the keyframe pictures, on media made on the spot."""

from __future__ import annotations

from dataclasses import replace
import io
from pathlib import Path
import time

import av
from PIL import Image
import pytest

from custom_components.local_doorbell.recording.audio import AacTranscoder
from custom_components.local_doorbell.recording.keyframe import (
    SnapshotCache,
    decode_keyframe,
    keyframe_jpeg,
    to_jpeg,
)
from custom_components.local_doorbell.recording.packet import Packet
from custom_components.local_doorbell.recording.writer import ClipWriter

from .harness import decode
from .synthetic import FPS, Source, encode, load


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    """Two seconds of H.264 with G.711 µ-law, as a doorbell sends them."""
    return load(encode(tmp_path_factory.mktemp("media") / "source.nut"))


def write(path: Path, source: Source, packets: list[Packet] | None = None) -> ClipWriter:
    writer = ClipWriter(path, source.info)
    for packet in source.packets if packets is None else packets:
        writer.write(packet)
    writer.close()
    return writer


def test_clip_starts_at_its_first_keyframe_at_zero(source: Source, tmp_path: Path) -> None:
    video = source.video()
    # A clip made from the middle: a picture and sound before the second keyframe are skipped.
    second = source.packets.index(video[FPS])
    writer = write(tmp_path / "clip.mp4", source, source.packets[second - 3 :])
    assert writer.audio == "aac"
    assert writer.duration == pytest.approx(1.0)
    assert writer.first_wall == video[FPS].wall
    clip = decode(writer.path)
    assert clip.counters == list(range(FPS, 2 * FPS))
    assert clip.times[0] == 0.0
    assert clip.audio == "aac"
    assert clip.audio_samples / 8000 == pytest.approx(1.0, abs=0.2)


def test_unknown_audio_is_dropped_and_video_kept(source: Source, tmp_path: Path) -> None:
    info = replace(source.info, audio_codec="no_such_codec")
    writer = write(tmp_path / "clip.mp4", replace(source, info=info))
    assert writer.audio == "none"
    clip = decode(writer.path)
    assert clip.audio is None
    assert clip.counters == list(range(2 * FPS))


def test_aac_is_copied(tmp_path: Path) -> None:
    source = load(encode(tmp_path / "aac.nut", 1.0, audio="aac"))
    writer = write(tmp_path / "clip.mp4", source)
    assert writer.audio == "copy"
    assert decode(writer.path).audio == "aac"


def test_hevc_is_copied_and_tagged_for_apple(tmp_path: Path) -> None:
    source = load(encode(tmp_path / "hevc.nut", 1.0, codec="libx265", audio=None))
    writer = write(tmp_path / "clip.mp4", source)
    assert writer.audio == "none"
    with av.open(str(writer.path)) as container:
        assert container.streams.video[0].codec_context.name == "hevc"
        assert container.streams.video[0].codec_tag == "hvc1"
    assert decode(writer.path).counters == list(range(FPS))


def test_an_empty_clip_closes_and_bad_input_is_refused(source: Source, tmp_path: Path) -> None:
    writer = ClipWriter(tmp_path / "empty.mp4", source.info)
    assert writer.elapsed(source.packets[0]) == 0.0
    writer.close()
    with pytest.raises(ValueError, match="templates"):
        ClipWriter(tmp_path / "x.mp4", replace(source.info, templates=None))
    output = av.open(str(tmp_path / "y.mp4"), "w")
    with pytest.raises(ValueError, match="no audio"):
        AacTranscoder(output, replace(source.info, audio_codec=None))
    with pytest.raises(TypeError, match="not an audio codec"):
        AacTranscoder(output, replace(source.info, audio_codec="h264"))
    output.close()


def test_thumbnail_is_scaled_and_bad_keyframes_give_none(source: Source) -> None:
    keyframe = source.video()[0]
    frame = decode_keyframe(
        source.info.video_codec, source.info.video_extradata, bytes(keyframe.data)
    )
    assert frame is not None
    small = Image.open(io.BytesIO(to_jpeg(frame, 160)))
    assert small.size == (160, 120)
    assert Image.open(io.BytesIO(to_jpeg(frame, 640))).size == (320, 240)  # never enlarged
    assert decode_keyframe("h264", b"", b"\x00\x00\x01\x65garbage") is None
    assert keyframe_jpeg(replace(keyframe, data=av.Packet(b"junk")), source.info) is None
    with pytest.raises(TypeError, match="not a video codec"):
        decode_keyframe("aac", b"", bytes(keyframe.data))


def test_snapshot_of_a_1080p_keyframe_is_cached(tmp_path: Path) -> None:
    source = load(encode(tmp_path / "hd.nut", 0.1, audio=None, size=(1920, 1080)))
    keyframe = source.video()[0]
    cache = SnapshotCache()
    started = time.perf_counter()
    jpeg = cache.jpeg(keyframe, source.info)
    first = time.perf_counter() - started
    assert jpeg is not None
    assert Image.open(io.BytesIO(jpeg)).size == (1920, 1080)
    started = time.perf_counter()
    assert cache.jpeg(keyframe, source.info) is jpeg
    assert time.perf_counter() - started < 0.005
    assert first < 1.0  # decoding and encoding once; typically about 30 ms
