"""The restream on its own, fed by hand: what the simulator cannot make happen on cue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from fractions import Fraction
import time
from urllib.parse import urlsplit

import av
import pytest

from custom_components.local_doorbell.recording.packet import Packet
from custom_components.local_doorbell.recording.streams import StreamInfo
from custom_components.local_doorbell.rtsp import restream as restream_module
from custom_components.local_doorbell.rtsp.restream import PATH, USER, Restream
from tests.helpers.rtsp import RawClient

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
