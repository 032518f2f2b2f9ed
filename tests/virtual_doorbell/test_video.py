"""The simulated camera's picture, encoder, audio and RTP packetization, without sockets."""

from __future__ import annotations

from collections.abc import Iterator
import io
import itertools
import threading
import time

import av
import numpy as np
from PIL import Image
import pytest

from custom_components.local_doorbell.rtsp.media import MediaPacket
from custom_components.local_doorbell.rtsp.rtp import (
    MAX_PAYLOAD,
    NAL_IDR,
    NAL_PPS,
    NAL_SPS,
    aac_payloads,
    h264_payloads,
    interleaved,
    interleaved_rtp,
    nal_type,
    split_annexb,
)
from virtual_doorbell.audio import AudioCodec, aac_config
from virtual_doorbell.picture import PictureMaker
from virtual_doorbell.video import VideoSource, read_frame_counter

FPS = 15


class Collector:
    """Subscribes to a source and keeps every packet."""

    def __init__(self) -> None:
        self.packets: list[MediaPacket] = []
        self.lock = threading.Lock()

    def __call__(self, packet: MediaPacket) -> None:
        with self.lock:
            self.packets.append(packet)

    def of(self, kind: str) -> list[MediaPacket]:
        with self.lock:
            return [p for p in self.packets if p.kind == kind]

    def wait(self, kind: str, count: int, timeout: float = 10.0) -> list[MediaPacket]:
        deadline = time.monotonic() + timeout
        while len(self.of(kind)) < count:
            assert time.monotonic() < deadline, f"fewer than {count} {kind} packets"
            time.sleep(0.02)
        return self.of(kind)


@pytest.fixture
def source(audio: AudioCodec) -> Iterator[VideoSource]:
    source = VideoSource(320, 240, FPS, gop_seconds=1.0, bitrate=300_000, audio=audio)
    yield source
    source.stop()


@pytest.fixture
def collector(source: VideoSource) -> Collector:
    collector = Collector()
    source.subscribe(collector)
    return collector


def decode_video(packets: list[MediaPacket]) -> list[av.VideoFrame]:
    decoder = av.CodecContext.create("h264", "r")
    frames = []
    for packet in packets:
        frames += decoder.decode(av.Packet(packet.data))
    frames += decoder.decode(None)
    return frames


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (320, 240)])
@pytest.mark.parametrize("number", [0, 1, 0x123456, 0xFFFFFF])
def test_frame_counter_round_trip_raw(width: int, height: int, number: int) -> None:
    planes = PictureMaker(width, height, FPS).render(number, time.time())
    frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
    assert read_frame_counter(frame) == number


def test_picture_moves_and_rejects_odd_sizes() -> None:
    maker = PictureMaker(320, 240, FPS)
    first, later = maker.render(0, 0.0), maker.render(10, 0.0)
    lower = slice(240 * 2 // 3, 240)
    assert not np.array_equal(first[lower], later[lower])
    with pytest.raises(ValueError, match="even"):
        PictureMaker(321, 240, FPS)


def test_start_publishes_parameter_sets(source: VideoSource) -> None:
    assert source.sps == b""
    source.start()
    assert nal_type(source.sps) == NAL_SPS
    assert nal_type(source.pps) == NAL_PPS
    assert source.profile_level_id == source.sps[1:4].hex().upper()
    assert source.profile_level_id.startswith("42")  # baseline
    with pytest.raises(RuntimeError, match="already started"):
        source.start()


def test_encoded_stream_is_paced_and_counts_frames(
    source: VideoSource, collector: Collector
) -> None:
    source.start()
    started = time.monotonic()
    packets = collector.wait("video", 2 * FPS + 1)
    elapsed = time.monotonic() - started
    assert 1.8 < elapsed < 2.6  # frame n is due at n / fps
    assert [p.pts for p in packets] == [n * 90_000 // FPS for n in range(len(packets))]
    assert [n for n, p in enumerate(packets) if p.keyframe] == [0, FPS, 2 * FPS]
    frames = decode_video(packets)
    assert len(frames) == len(packets)
    assert (frames[0].width, frames[0].height) == (320, 240)
    assert [read_frame_counter(f) for f in frames] == list(range(len(frames)))


def test_stop_joins_and_restart_begins_again(source: VideoSource, collector: Collector) -> None:
    source.start()
    collector.wait("video", 3)
    source.stop()
    assert not any(t.name.startswith("video-") for t in threading.enumerate())
    count = len(collector.of("video"))
    time.sleep(0.2)
    assert len(collector.of("video")) == count
    source.stop()  # stopping twice is harmless
    source.start()
    again = collector.wait("video", count + 1)[count]
    assert again.keyframe
    assert again.pts == 0


def test_failing_subscriber_does_not_stop_the_others(
    source: VideoSource, collector: Collector
) -> None:
    def broken(packet: MediaPacket) -> None:
        raise RuntimeError("subscriber bug")

    source.subscribe(broken)
    source.start()
    collector.wait("video", 5)
    source.unsubscribe(broken)
    source.unsubscribe(collector)
    count = len(collector.of("video"))
    time.sleep(0.2)
    assert len(collector.of("video")) == count


def test_snapshot_is_a_jpeg_of_the_current_picture(source: VideoSource) -> None:
    with pytest.raises(RuntimeError, match="not started"):
        source.snapshot_jpeg()
    source.start()
    image = Image.open(io.BytesIO(source.snapshot_jpeg()))
    assert image.format == "JPEG"
    assert image.size == (320, 240)


@pytest.mark.parametrize("audio", ["pcmu"])
def test_pcmu_packets_are_20_ms(source: VideoSource, collector: Collector) -> None:
    assert source.audio_clock_rate == 8000
    assert source.audio_config == ""
    source.start()
    packets = collector.wait("audio", 25)
    assert {len(p.data) for p in packets} == {160}
    assert [p.pts for p in packets] == [k * 160 for k in range(len(packets))]
    decoder = av.CodecContext.create("pcm_mulaw", "r")
    decoder.sample_rate = 8000
    decoder.layout = "mono"
    samples = np.concatenate(
        [f.to_ndarray().ravel() for p in packets for f in decoder.decode(av.Packet(p.data))]
    )
    loud = np.abs(samples.astype(np.int32)) > 1000
    assert loud[:800].any()  # the beep sounds in the first 200 ms of each second
    assert not loud[1600:].any()


@pytest.mark.parametrize("audio", ["aac"])
def test_aac_packets_decode(source: VideoSource, collector: Collector) -> None:
    assert source.audio_clock_rate == 16_000
    assert source.audio_config == aac_config() == "1408"
    source.start()
    packets = collector.wait("audio", 10)
    decoder = av.CodecContext.create("aac", "r")
    decoder.extradata = bytes.fromhex(source.audio_config)
    frames = [f for p in packets for f in decoder.decode(av.Packet(p.data))]
    assert frames
    assert {f.samples for f in frames} == {1024}
    assert {f.sample_rate for f in frames} == {16_000}
    steps = {b.pts - a.pts for a, b in itertools.pairwise(packets)}
    assert steps == {1024}


def test_split_annexb_handles_both_start_codes() -> None:
    stream = b"\x00\x00\x00\x01\x67\x42\x00\x00\x01\x68\xce\x00\x00\x00\x01\x65\x88\x00"
    assert split_annexb(stream) == [b"\x67\x42", b"\x68\xce", b"\x65\x88\x00"]
    assert split_annexb(b"no start code") == []


def test_h264_payloads_fragment_large_nals() -> None:
    idr = bytes([0x65]) + bytes(range(256)) * 20  # 5121 bytes: four FU-A fragments
    unit = b"\x00\x00\x00\x01\x09\xf0" + b"\x00\x00\x01\x67\x42" + b"\x00\x00\x01" + idr
    payloads = h264_payloads(unit)
    assert payloads[0] == (False, b"\x67\x42")  # the access unit delimiter is dropped
    fragments = payloads[1:]
    assert [marker for marker, _ in payloads] == [False] * (len(payloads) - 1) + [True]
    assert all(len(p) <= MAX_PAYLOAD for _, p in fragments)
    assert all(p[0] == 0x60 | 28 for _, p in fragments)  # NRI kept, type FU-A
    assert [p[1] & 0xC0 for _, p in fragments] == [0x80, 0, 0, 0x40]
    assert {p[1] & 0x1F for _, p in fragments} == {NAL_IDR}
    assert bytes([0x65]) + b"".join(p[2:] for _, p in fragments) == idr


def test_aac_payload_has_one_au_header() -> None:
    assert aac_payloads(b"\x01\x02\x03") == [(True, b"\x00\x10\x00\x18\x01\x02\x03")]


def test_rtp_header_and_interleaving() -> None:
    frames: list[bytes | memoryview] = []
    payloads = [(False, b"xy"), (True, b"z")]
    seq = interleaved_rtp(
        frames, payloads, channel=2, payload_type=96, seq=0xFFFF, timestamp=9, ssrc=0xABCD
    )
    assert seq == 1  # 0xFFFF, 0, then 1: wrapped
    assert frames == [
        b"$\x02\x00\x0e" + bytes.fromhex("8060ffff000000090000abcd"),
        b"xy",
        b"$\x02\x00\x0d" + bytes.fromhex("80e00000000000090000abcd"),
        b"z",
    ]
    assert interleaved(2, b"abc") == b"$\x02\x00\x03abc"
