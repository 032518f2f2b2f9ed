"""The clip writer and the keyframe pictures, on media made on the spot."""

from __future__ import annotations

from dataclasses import replace
import io
from pathlib import Path

import av
from PIL import Image
import pytest

from custom_components.local_doorbell.recording.capture import keyframe as keyframe_module
from custom_components.local_doorbell.recording.capture.audio import AacTranscoder
from custom_components.local_doorbell.recording.capture.keyframe import (
    KeyframeDecoder,
    Pictures,
    SnapshotCache,
    decode_keyframe,
)
from custom_components.local_doorbell.recording.capture.packet import Packet
from custom_components.local_doorbell.recording.capture.writer import ClipWriter

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
    pictures = Pictures()
    small = Image.open(io.BytesIO(pictures.jpeg(keyframe, source.info, 160) or b""))
    assert small.size == (160, 120)
    assert small.format == "JPEG"
    large = pictures.jpeg(keyframe, source.info, 640) or b""
    assert Image.open(io.BytesIO(large)).size == (320, 240)  # never enlarged
    assert decode_keyframe("h264", b"", b"\x00\x00\x01\x65garbage") is None
    assert pictures.jpeg(replace(keyframe, data=av.Packet(b"junk")), source.info) is None
    assert pictures.jpeg(keyframe, source.info, 160) is not None  # the decoder recovered
    with pytest.raises(TypeError, match="not a video codec"):
        decode_keyframe("aac", b"", bytes(keyframe.data))


def test_one_decoder_per_stream_serves_thumbnails_and_snapshots(
    source: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    class Counted(KeyframeDecoder):
        def __init__(self, codec: str, extradata: bytes) -> None:
            opened.append(codec)
            super().__init__(codec, extradata)

    monkeypatch.setattr(keyframe_module, "KeyframeDecoder", Counted)
    pictures = Pictures()
    first, second = source.video()[0], source.video()[FPS]
    assert second.keyframe
    for packet in (first, second, first):
        for width in (None, 160):
            assert decode(jpeg_file(tmp_path, pictures.jpeg(packet, source.info, width))).counters
    assert decode(jpeg_file(tmp_path, pictures.jpeg(second, source.info))).counters == [FPS]
    assert opened == ["h264"]
    hevc = load(encode(tmp_path / "hevc.nut", 1.0, codec="libx265", audio=None))
    assert decode(jpeg_file(tmp_path, pictures.jpeg(hevc.video()[0], hevc.info))).counters == [0]
    assert pictures.jpeg(first, source.info) is not None
    assert opened == ["h264", "hevc", "h264"]  # a new decoder only when the stream changes
    # A stream with B-frames: its decoder holds each picture back until drained.
    reordered = load(encode(tmp_path / "b.nut", 2.0, audio=None, b_frames=2))
    keyframes = [packet for packet in reordered.video() if packet.keyframe]
    shown = [
        decode(jpeg_file(tmp_path, pictures.jpeg(packet, reordered.info))).counters
        for packet in (*keyframes, *keyframes)
    ]
    assert shown == shown[: len(keyframes)] * 2  # the same pictures again: nothing held over
    assert all(len(counters) == 1 and counters[0] % FPS == 0 for counters in shown)


def jpeg_file(folder: Path, jpeg: bytes | None) -> Path:
    """Write a JPEG where `decode` can read it."""
    assert jpeg is not None
    path = folder / "picture.jpg"
    path.write_bytes(jpeg)
    return path


def test_snapshot_of_a_1080p_keyframe_is_cached(tmp_path: Path) -> None:
    source = load(encode(tmp_path / "hd.nut", 0.1, audio=None, size=(1920, 1080)))
    keyframe = source.video()[0]
    cache = SnapshotCache(Pictures())
    jpeg = cache.jpeg(keyframe, source.info)
    assert jpeg is not None
    assert Image.open(io.BytesIO(jpeg)).size == (1920, 1080)
    assert cache.jpeg(keyframe, source.info) is jpeg  # not made again
