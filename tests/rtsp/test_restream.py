"""The restream on its own, fed by hand: what the simulator cannot make happen on cue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from fractions import Fraction
import re
import shutil
import subprocess
import time
from urllib.parse import urlsplit

import av
import numpy as np
import pytest

from custom_components.local_doorbell.recording.capture.packet import Packet
from custom_components.local_doorbell.recording.capture.streams import StreamInfo
from custom_components.local_doorbell.rtsp import restream as restream_module
from custom_components.local_doorbell.rtsp.restream import PATH, USER, Restream
from custom_components.local_doorbell.rtsp.rtp import INTERLEAVED_MAX_PAYLOAD
from tests.helpers.rtsp import RawClient, Rtp, access_units, annexb, decode_h264

START = b"\x00\x00\x00\x01"
SPS = bytes((0x67, 0x42, 0xC0, 0x1F, 0xAB))
PPS = bytes((0x68, 0xCE, 0x3C, 0x80))
INFO = StreamInfo(
    video_codec="h264",
    width=320,
    height=240,
    video_extradata=START + SPS + START + PPS,
    video_time_base=Fraction(1, 90_000),
)


def picture(number: int, *, keyframe: bool, size: int = 100) -> Packet:
    nal = bytes((0x65 if keyframe else 0x41,)) + bytes(size)
    return Packet(
        stream="video",
        data=av.Packet(START + nal),
        pts=number * 6000,
        dts=number * 6000,
        duration=6000,
        time_base=Fraction(1, 90_000),
        keyframe=keyframe,
        wall=time.time(),
    )


@pytest.fixture
async def live(socket_enabled: None) -> AsyncIterator[Restream]:
    server = Restream()
    watched: list[bool] = []
    server.on_watched = watched.append
    server.open()
    yield server
    server.close()


async def connect(live: Restream) -> RawClient:
    return await RawClient.connect(live.port, USER, urlsplit(live.url).password or "")


def url(live: Restream) -> str:
    return f"rtsp://127.0.0.1:{live.port}{PATH}"


async def test_nothing_to_describe_before_the_first_keyframe(
    live: Restream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(restream_module, "DESCRIBE_WAIT", 0.2)
    client = await connect(live)
    try:
        assert (await client.request("DESCRIBE", url(live))).status == 503
    finally:
        client.close()


async def test_the_cache_holds_one_bounded_group_and_forgets_a_lost_device(
    live: Restream, monkeypatch: pytest.MonkeyPatch
) -> None:
    live.on_packet(picture(0, keyframe=False))  # nothing to decode it from
    assert live.held == 0
    live.on_packet(picture(1, keyframe=True))
    live.on_packet(picture(2, keyframe=False))
    assert live.held == 2
    live.on_packet(picture(3, keyframe=True))
    assert live.held == 1
    live.on_connection(False)
    assert live.held == 0
    monkeypatch.setattr(restream_module, "MAX_GOP_BYTES", 1000)
    live.on_packet(picture(4, keyframe=True, size=600))
    live.on_packet(picture(5, keyframe=False, size=600))  # past the bound: wait for a keyframe
    live.on_packet(picture(6, keyframe=False))
    assert live.held == 0


async def test_readers_start_at_the_keyframe_and_reconnect_when_the_stream_changes(
    live: Restream,
) -> None:
    watched: list[bool] = []
    live.on_watched = watched.append
    live.on_streams(INFO)
    live.on_packet(picture(1, keyframe=True))
    live.on_packet(picture(2, keyframe=False))
    client = await connect(live)
    try:
        assert (await client.play(url(live))).status == 200
        frames = [await client.frame() for _ in range(4)]  # SPS, PPS, the keyframe, the next
        assert [data[12] & 0x1F for _, data in frames] == [7, 8, 5, 1]
        assert watched == [True]
        live.on_streams(replace(INFO, width=640, video_extradata=START + SPS[:-1] + START + PPS))

        async def drain() -> None:
            while True:
                await client.frame()

        with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
            await drain()
    finally:
        client.close()


def noisy_pictures(count: int) -> tuple[StreamInfo, list[Packet]]:
    """Encode pictures of noise: a keyframe past 64 KB, pictures past an MTU after it."""
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 640, 480, "yuv420p"
    encoder.time_base = Fraction(1, 15)
    encoder.options = {"crf": "10", "bf": "0", "tune": "zerolatency", "repeat-headers": "0"}
    noise = np.random.default_rng(14).integers(0, 256, (count, 480 * 3 // 2, 640), np.uint8)
    encoded = []
    for index, planes in enumerate(noise):
        frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
        frame.pts = index
        encoded += encoder.encode(frame)
    encoded += encoder.encode(None)
    packets = [
        Packet(
            stream="video",
            data=av.Packet(bytes(packet)),
            pts=index * 6000,
            dts=index * 6000,
            duration=6000,
            time_base=Fraction(1, 90_000),
            keyframe=index == 0,
            wall=time.time(),
        )
        for index, packet in enumerate(encoded)
    ]
    info = replace(INFO, width=640, height=480, video_extradata=bytes(encoder.extradata or b""))
    return info, packets


async def test_large_rtp_packets_decode_in_pyav_gstreamer_and_ffmpeg(live: Restream) -> None:
    info, packets = noisy_pictures(5)  # decoders may hold the last picture back
    assert packets[0].size > 2 * 65_535  # the keyframe goes in several 64 KB fragments
    live.on_streams(info)
    for packet in packets:
        live.on_packet(packet)
    client = await connect(live)
    try:
        assert (await client.play(url(live))).status == 200
        units = await access_units(client, 3)
    finally:
        client.close()
    sizes = [len(rtp.payload) for unit in units for rtp in unit]
    assert max(sizes) == INTERLEAVED_MAX_PAYLOAD  # full fragments: no MTU over TCP
    assert sum(size > 1400 for size in sizes) >= 4
    fragments = [rtp for rtp in units[0] if rtp.payload[0] & 0x1F == 28]
    marks = "".join({0x80: "s", 0x40: "e"}.get(rtp.payload[1] & 0xC0, "m") for rtp in fragments)
    assert re.fullmatch(r"(sm*e)+", marks)  # each slice: start, middles, end
    assert len(decode_h264(annexb(units))) == 3

    gstreamer = [
        shutil.which("gst-launch-1.0") or "gst-launch-1.0 is missing: scripts/setup installs it",
        "-q",
        *("rtspsrc", f"location={live.url}", "protocols=tcp", "latency=0", "!"),
        *("rtph264depay", "!", "avdec_h264", "!", "videoconvert", "!"),
        *("video/x-raw,format=I420", "!", "identity", "eos-after=4", "!", "fdsink", "fd=1"),
    ]
    run = await asyncio.to_thread(
        subprocess.run, gstreamer, capture_output=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    assert len(run.stdout) == 3 * 640 * 480 * 3 // 2  # three whole pictures, then the end

    def ffmpeg_pictures() -> int:
        # Not a with-block: PyAV 16's stubs let mypy think one may swallow the return.
        container = av.open(live.url, options={"rtsp_transport": "tcp"}, timeout=10)
        try:
            return sum(1 for _, _ in zip(range(3), container.decode(video=0), strict=False))
        finally:
            container.close()

    assert await asyncio.to_thread(ffmpeg_pictures) == 3


async def test_a_reader_joining_mid_batch_gets_each_picture_once(live: Restream) -> None:
    live.on_streams(INFO)
    live.on_packet(picture(1, keyframe=True))
    first, second = await connect(live), await connect(live)
    try:
        assert (await first.play(url(live))).status == 200
        live.on_packet(picture(2, keyframe=False))  # a batch in the making for the first
        assert (await second.play(url(live))).status == 200
        live.on_packet(picture(3, keyframe=False))
        live.on_batch()
        for client in (first, second):
            frames = [Rtp.parse(data) for _, data in [await client.frame() for _ in range(5)]]
            assert [rtp.nal_type for rtp in frames] == [7, 8, 5, 1, 1]
            assert [rtp.timestamp - frames[0].timestamp for rtp in frames] == [
                *(0, 0, 0),
                *(6000, 12000),
            ]
            assert [rtp.seq - frames[0].seq for rtp in frames] == [0, 1, 2, 3, 4]
        assert live.viewers == 2
        live.on_batch()  # nothing kept: nothing more sent
        first.close()
        await asyncio.sleep(0)
        second.send_raw(b"OPTIONS * RTSP/1.0\r\nCSeq: 9\r\n\r\n")
        assert (await second.reply()).status == 200  # no picture came before the answer
    finally:
        first.close()
        second.close()
