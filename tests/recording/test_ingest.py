"""The ingest thread on its own: odd sources, unreachable devices, silent devices."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
import contextlib
import itertools
import logging
from pathlib import Path
import socket
import threading
import time

import av
import numpy as np
import pytest

from custom_components.local_doorbell.recording.capture import ingest as ingest_module
from custom_components.local_doorbell.recording.capture.ingest import Ingest
from custom_components.local_doorbell.recording.capture.keyframe import decode_keyframe
from custom_components.local_doorbell.recording.capture.packet import Packet
from custom_components.local_doorbell.recording.capture.streams import StreamInfo
from virtual_doorbell import VirtualDoorbell

from .harness import wait_for, wait_for_sync
from .synthetic import FPS, encode


class Seen:
    """What an ingest handed on."""

    def __init__(self) -> None:
        self.packets: list[Packet] = []
        self.infos: list[StreamInfo] = []
        self.connection: list[bool] = []

    def ingest(
        self,
        url: str,
        *,
        watchdog: float = 10.0,
        backoff_base: float = 1.0,
        io_timeout: float = 1.0,
    ) -> Ingest:
        return Ingest(
            url,
            on_packet=self.packets.append,
            on_streams=self.infos.append,
            on_connection=self.connection.append,
            watchdog=watchdog,
            backoff_base=backoff_base,
            io_timeout=io_timeout,
        )


@contextlib.contextmanager
def running(ingest: Ingest) -> Iterator[Ingest]:
    ingest.start()
    try:
        yield ingest
    finally:
        ingest.stop()


def test_a_file_plays_to_its_end_and_is_opened_again(tmp_path: Path) -> None:
    seen = Seen()
    with running(seen.ingest(str(encode(tmp_path / "a.nut", 1.0)), backoff_base=0.05)):
        wait_for_sync(lambda: seen.connection.count(True) >= 2)
    assert seen.connection[:3] == [True, False, True]
    assert seen.infos[0] == seen.infos[1]
    assert seen.infos[0].audio_codec == "pcm_mulaw"
    video = [p.dts for p in seen.packets if p.stream == "video"]
    assert len(video) >= FPS  # all of the first pass, though it took less than a batch
    assert video == sorted(set(video))  # the second pass continues the timeline


def test_sources_without_video_or_keyframes_are_given_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sound = tmp_path / "sound.wav"
    with av.open(str(sound), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        stream.layout = "mono"
        silence = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), layout="mono")
        silence.sample_rate = 8000
        container.mux(stream.encode(silence))
    seen = Seen()
    with running(seen.ingest(str(sound))):
        wait_for_sync(lambda: "has no video" in caplog.text)
    # Pictures that never start at a keyframe; the watchdog gives them no time at all.
    source = tmp_path / "a.nut"
    encode(source, 1.0, audio=None)
    cut = tmp_path / "cut.nut"
    with av.open(str(source)) as original, av.open(str(cut), "w", format="nut") as output:
        pictures = output.add_stream_from_template(original.streams.video[0])
        for packet in original.demux():
            if packet.size and not packet.is_keyframe:
                packet.stream = pictures
                output.mux(packet)
    with running(seen.ingest(str(cut), watchdog=0.0)):
        wait_for_sync(lambda: "no keyframe" in caplog.text)
    assert set(seen.connection) == {False}
    assert not seen.packets


def test_refused_connection_is_retried_and_callback_bugs_are_logged(
    socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]

    def broken(connected: bool) -> None:
        raise RuntimeError("callback bug")

    ingest = Ingest(f"rtsp://admin:pw@127.0.0.1:{port}/x", on_packet=print, on_connection=broken)
    with caplog.at_level(logging.DEBUG), running(ingest):
        wait_for_sync(lambda: "callback" in caplog.text and "is down" in caplog.text)
    assert not ingest.connected
    assert "pw" not in caplog.text
    assert caplog.text.count("is down") == 1  # one warning for a run of failures


def test_a_device_that_never_answers_gets_more_patience_and_stop_is_prompt(
    socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as server, caplog.at_level(logging.DEBUG):
        server.bind(("127.0.0.1", 0))
        server.listen()
        seen = Seen()
        url = f"rtsp://127.0.0.1:{server.getsockname()[1]}/x"
        with running(seen.ingest(url, io_timeout=0.2, backoff_base=0.05)) as ingest:
            wait_for_sync(lambda: "no answer within 0.4 s" in caplog.text)
            with pytest.raises(RuntimeError, match="already started"):
                ingest.start()
            started = time.monotonic()  # stopping while it connects again
        assert time.monotonic() - started < 2.0
    assert "no answer within 0.2 s" in caplog.text
    assert seen.connection == [False]


def test_a_bug_is_logged_without_the_password(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = "rtsp://admin:secret@127.0.0.1:1/x"

    def broken(self: Ingest, io_timeout: float) -> None:
        raise RuntimeError(f"bug while opening {url}")

    monkeypatch.setattr(Ingest, "_open", broken)
    seen = Seen()
    with running(seen.ingest(url)):
        wait_for_sync(lambda: "failed" in caplog.text)
    assert "secret" not in caplog.text
    assert "RuntimeError: bug while opening rtsp://***@127.0.0.1:1/x" in caplog.text


@pytest.fixture
async def silent_doorbell(doorbell: VirtualDoorbell) -> AsyncIterator[VirtualDoorbell]:
    await doorbell.fault("stop_video")
    yield doorbell
    doorbell.clear_faults()


async def test_a_probe_cut_short_learns_the_size_from_the_first_keyframe(
    silent_doorbell: VirtualDoorbell, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[bool] = []

    def first_fails(codec: str, extradata: bytes, data: bytes) -> av.VideoFrame | None:
        decoded.append(True)
        return None if len(decoded) == 1 else decode_keyframe(codec, extradata, data)

    monkeypatch.setattr(ingest_module, "decode_keyframe", first_fails)
    seen = Seen()
    ingest = seen.ingest(silent_doorbell.rtsp_url(0), io_timeout=0.3)
    await asyncio.to_thread(ingest.start)
    try:
        await wait_for(lambda: silent_doorbell.state.counters.rtsp_sessions == 1)
        await asyncio.sleep(0.6)  # the probe gave up: the picture size is unknown
        silent_doorbell.clear_faults()
        await wait_for(lambda: bool(seen.infos))
    finally:
        await asyncio.to_thread(ingest.stop)
    assert (seen.infos[0].width, seen.infos[0].height) == (320, 240)
    assert len(decoded) == 2  # a keyframe that did not decode was skipped
    assert seen.connection == [True, False]
    assert not any(t.name.startswith("ingest") for t in threading.enumerate())


async def test_live_view_gets_short_batches_in_order(doorbell: VirtualDoorbell) -> None:
    seen = Seen()
    batches: list[int] = []  # packets handed on by each batch's end
    ingest = Ingest(
        doorbell.rtsp_url(0),
        on_packet=seen.packets.append,
        on_connection=seen.connection.append,
        on_batch=lambda: batches.append(len(seen.packets)),
    )

    def sizes(first: int, last: int) -> list[int]:
        """Return the sizes of the batches that ended between two of them."""
        ends = batches[first - 1 : last]
        return [b - a for a, b in itertools.pairwise(ends)]

    with running(ingest):
        await wait_for(lambda: len(batches) >= 2)  # the first keyframe's, then a long one
        slow = len(batches)
        await wait_for(lambda: len(seen.packets) >= batches[slow - 1] + 30)
        ingest.live = True
        assert ingest.live
        live = len(batches) + 1  # the held batch goes with the next packet
        await wait_for(lambda: len(batches) >= live)
        await wait_for(lambda: len(seen.packets) >= batches[live - 1] + 30)
        ingest.live = False
        end = len(batches)
    assert not ingest.live
    # 10 pictures a second: a second's batches hold about 10, a tenth's one or two.
    slow_sizes, live_sizes = sizes(slow, live - 1), sizes(live, end)
    assert sorted(slow_sizes)[len(slow_sizes) // 2] >= 5
    assert len(live_sizes) >= 10
    assert sorted(live_sizes)[len(live_sizes) // 2] <= 2
    assert min(sizes(slow, end)) >= 1  # every batch hands something on
    video = [packet.dts for packet in seen.packets if packet.stream == "video"]
    assert video == sorted(set(video))  # in order, none twice
