"""Live view: the restream serves Home Assistant's stream (HLS) and any RTSP client locally."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import io
import shutil
import subprocess
from urllib.parse import urlsplit

import av
from homeassistant.components.camera import async_request_stream, get_camera_from_entity_id
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.local_doorbell.rtsp.restream import PATH, USER, Restream
from tests.helpers.rtsp import RawClient, Reader, access_units, annexb, decode_h264
from tests.helpers.video import PYAV_OPTIONS
from virtual_doorbell import VirtualDoorbell
from virtual_doorbell.video import read_frame_counter

from ..conftest import TEST_VIDEO
from .conftest import entity_id, wait_for

GOP = round(TEST_VIDEO.gop_seconds * TEST_VIDEO.fps)  # pictures from keyframe to keyframe
TCP = {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}

# Home Assistant's stream leaves its idle timer scheduled after stop(); that is its own.
lingering_stream = pytest.mark.parametrize("expected_lingering_timers", [True])


@pytest.fixture
def live(entry: MockConfigEntry) -> Restream:
    """Return the restream of the doorbell the `entry` fixture set up."""
    restream: Restream = entry.runtime_data.live
    return restream


def password(live: Restream) -> str:
    return urlsplit(live.url).password or ""


async def client_of(live: Restream, secret: str | None = None) -> RawClient:
    return await RawClient.connect(live.port, USER, password(live) if secret is None else secret)


def plain(live: Restream) -> str:
    """Return the restream's address without the credential, as requests name it."""
    return f"rtsp://127.0.0.1:{live.port}{PATH}"


@contextlib.asynccontextmanager
async def reading(url: str, **kwargs: object) -> AsyncIterator[Reader]:
    reader = Reader(url, **kwargs)  # type: ignore[arg-type]
    reader.start()
    try:
        yield reader
    finally:
        reader.stopping.set()
        await asyncio.to_thread(reader.join, 10)


@contextlib.asynccontextmanager
async def hls(hass: HomeAssistant, doorbell: VirtualDoorbell) -> AsyncIterator[str]:
    """Start the camera's HLS stream; return its master playlist's URL."""
    assert await async_setup_component(hass, "stream", {})
    camera_id = entity_id(hass, "camera", doorbell.state.serial, "camera")
    camera = get_camera_from_entity_id(hass, camera_id)
    try:
        yield await async_request_stream(hass, camera_id, "hls")
    finally:
        if camera.stream is not None:
            await camera.stream.stop()


async def first_hls_picture(hass_client: ClientSessionGenerator, url: str) -> av.VideoFrame:
    """Fetch the HLS stream as a player does and decode its first picture."""
    client = await hass_client()
    master = await client.get(url)  # answers once the first segment exists
    assert master.status == 200
    assert 'CODECS="avc1.' in await master.text()
    init = await client.get(url.replace("master_playlist.m3u8", "init.mp4"))
    playlist = await (await client.get(url.replace("master_playlist", "playlist"))).text()
    segment_name = next(line for line in playlist.splitlines() if line.endswith(".m4s"))
    segment = await client.get(url.replace("master_playlist.m3u8", segment_name))
    assert segment.status == 200
    media = io.BytesIO(await init.read() + await segment.read())
    # Not a with-block: PyAV 16's stubs let mypy think one may swallow the return.
    container = av.open(media, mode="r")
    try:
        return next(container.decode(video=0))
    finally:
        container.close()


@lingering_stream
async def test_hls_live_view_decodes(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    doorbell: VirtualDoorbell,
    live: Restream,
) -> None:
    async with hls(hass, doorbell) as url:
        frame = await first_hls_picture(hass_client, url)
    assert (frame.width, frame.height) == (TEST_VIDEO.width, TEST_VIDEO.height)
    assert live.sessions_total == 1  # Home Assistant's stream read the restream


@lingering_stream
async def test_the_device_sees_one_session_whoever_watches(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    doorbell: VirtualDoorbell,
    live: Restream,
) -> None:
    async with hls(hass, doorbell) as url, reading(live.url) as one, reading(live.url) as two:
        # Two HLS viewers (they share Home Assistant's stream) and two RTSP clients.
        pictures = [await first_hls_picture(hass_client, url) for _ in range(2)]
        await wait_for(lambda: len(one.frames) > GOP and len(two.frames) > GOP, 20)
        assert live.viewers == 3  # Home Assistant's stream and the two readers
        assert doorbell.state.counters.rtsp_sessions == 1  # the recorder's, nothing else
        assert doorbell.state.counters.rtsp_sessions_total == 1
    assert all(picture.width == TEST_VIDEO.width for picture in pictures)
    assert one.codecs == two.codecs == {"video": "h264"}
    await wait_for(lambda: live.viewers == 0)


@lingering_stream
async def test_viewers_resume_after_a_device_reboot(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    doorbell: VirtualDoorbell,
    live: Restream,
) -> None:
    # A reader that gives up after 3 s without a byte: only the restream's keepalives hold it.
    strict = {**PYAV_OPTIONS, "timeout": "3000000"}
    async with (
        hls(hass, doorbell) as url,
        reading(live.url, options=strict, timeout=(10, None)) as reader,
    ):
        await first_hls_picture(hass_client, url)
        await wait_for(lambda: len(reader.frames) > GOP, 20)
        sessions = live.sessions_total
        before = reader.frames[-1].counter
        await doorbell.fault("reboot", 5)
        assert doorbell.state.counters.rtsp_sessions == 0
        # Pictures filmed after the reboot reach the same reader, never reopened.
        after = before + 5 * TEST_VIDEO.fps
        await wait_for(lambda: reader.frames[-1].counter > after, 40)
        assert reader.is_alive()
        assert reader.error is None
        assert live.sessions_total == sessions  # neither Home Assistant's stream nor it reopened
        assert doorbell.state.counters.rtsp_sessions == 1
        assert doorbell.state.counters.rtsp_sessions_total == 2  # the recorder, once again
        frame = await first_hls_picture(hass_client, url)
        assert frame.width == TEST_VIDEO.width


async def test_a_fresh_client_starts_at_the_cached_keyframe(
    doorbell: VirtualDoorbell, entry: MockConfigEntry, live: Restream
) -> None:
    await wait_for(lambda: entry.runtime_data.clips.recorder.connected and live.held > 0, 20)
    await doorbell.fault("stop_video")  # from now on the device sends no picture
    client = await client_of(live)
    try:
        assert (await client.play(plain(live))).status == 200
        async with asyncio.timeout(5):
            units = await access_units(client, 1)
    finally:
        client.close()
        doorbell.clear_faults()
    assert [packet.nal_type for packet in units[0][:3]] == [7, 8, 5]  # SPS, PPS, IDR
    pictures = decode_h264(annexb(units))
    assert pictures  # decodable at once, though the device sent nothing since PLAY
    assert read_frame_counter(pictures[0]) % GOP == 0  # a keyframe the device sent before


async def test_credentials_are_required(live: Restream) -> None:
    for secret in ("wrong", password(live)[:-1]):
        client = await client_of(live, secret)
        try:
            assert (await client.request("DESCRIBE", plain(live), auth=False)).status == 401
            assert (await client.request("DESCRIBE", plain(live))).status == 401
            assert (await client.request("SETUP", plain(live) + "/trackID=0", TCP)).status == 401
        finally:
            client.close()
    wrong = live.url.replace(password(live), "wrong")
    with pytest.raises(av.FFmpegError):
        await asyncio.to_thread(av.open, wrong, options=PYAV_OPTIONS, timeout=10)
    assert live.sessions_total == 0


def listening(port: int) -> set[str]:
    """Return the local addresses the kernel has a listening TCP socket on at a port."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, _, hex_port = local.partition(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.add(address)
    return found


async def test_listens_on_loopback_only(live: Restream) -> None:
    assert urlsplit(live.url).hostname == "127.0.0.1"
    assert listening(live.port) == {"0100007F"}  # 127.0.0.1, in the kernel's byte order


async def test_odd_input_gets_rtsp_errors(entry: MockConfigEntry, live: Restream) -> None:
    await wait_for(lambda: entry.runtime_data.clips.recorder.connected, 20)
    url = plain(live)
    client = await client_of(live)
    try:
        assert (await client.request("OPTIONS", url)).status == 200
        assert (
            await client.request("DESCRIBE", f"rtsp://127.0.0.1:{live.port}/other")
        ).status == 404
        assert (await client.request("SETUP", url + "/trackID=7", TCP)).status == 404
        assert (await client.request("PLAY", url)).status == 454  # nothing set up
        assert (await client.request("RECORD", url)).status == 501
        assert (await client.request("FROBNICATE", url)).status == 501
        udp = {"Transport": "RTP/AVP;unicast;client_port=5000-5001"}
        assert (await client.request("SETUP", url + "/trackID=0", udp)).status == 461
    finally:
        client.close()
    garbled = await client_of(live)
    try:
        garbled.send_raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello\r\n\r\n")  # TLS?
        assert (await garbled.reply()).status == 400
        assert (await garbled.request("OPTIONS", url)).status == 200  # it may go on
    finally:
        garbled.close()
    junk = [
        b"OPTIONS " + b"x" * 20_000 + b" RTSP/1.0\r\n\r\n",  # a line too long
        b"OPTIONS * RTSP/1.0\r\n" + b"X-A: b\r\n" * 100 + b"\r\n",  # too many headers
        b"OPTIONS * RTSP/1.0\r\nContent-Length: -5\r\n\r\n",
        b"OPTIONS * RTSP/1.0\r\nContent-Length: 99999999\r\n\r\n",
    ]
    for data in junk:
        odd = await client_of(live)
        try:
            odd.send_raw(data)
            assert (await odd.reply()).status == 400
            assert await asyncio.wait_for(odd.reader.read(), 5) == b""  # then it is dropped
        finally:
            odd.close()
    fresh = await client_of(live)  # the server goes on serving
    try:
        assert (await fresh.request("DESCRIBE", url)).status == 200
    finally:
        fresh.close()


async def test_unloading_closes_the_restream_and_its_clients(
    hass: HomeAssistant, entry: MockConfigEntry, live: Restream
) -> None:
    client = await client_of(live)
    try:
        assert (await client.play(plain(live))).status == 200
        assert await hass.config_entries.async_unload(entry.entry_id)

        async def until_closed() -> None:
            while await client.reader.read(65536):
                pass

        await asyncio.wait_for(until_closed(), 10)
    finally:
        client.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", live.port)


def _run(command: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, capture_output=True, timeout=60, check=False)  # noqa: S603


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: scripts/setup installs it"
    return path


async def test_gstreamer_and_ffmpeg_read_the_restream(
    entry: MockConfigEntry, live: Restream
) -> None:
    await wait_for(lambda: entry.runtime_data.clips.recorder.connected, 20)
    width, height = TEST_VIDEO.width, TEST_VIDEO.height
    pipeline = [
        _tool("gst-launch-1.0"),
        "-q",
        *("rtspsrc", f"location={live.url}", "protocols=tcp", "latency=0", "!"),
        *("rtph264depay", "!", "avdec_h264", "!", "videoconvert", "!"),
        *("video/x-raw,format=I420", "!", "identity", "eos-after=5", "!"),
        *("fdsink", "fd=1"),
    ]
    gstreamer = await asyncio.to_thread(_run, pipeline)
    assert gstreamer.returncode == 0, gstreamer.stderr.decode(errors="replace")
    size = width * height * 3 // 2
    planes = np.frombuffer(gstreamer.stdout, np.uint8)
    assert len(planes) >= 4 * size
    counters = []
    for index in range(4):
        picture = planes[index * size : (index + 1) * size].reshape(height * 3 // 2, width)
        counters.append(read_frame_counter(av.VideoFrame.from_ndarray(picture, format="yuv420p")))
    assert counters == [counters[0] + n for n in range(4)]  # consecutive pictures
    probe = [_tool("ffprobe"), "-v", "error", "-rtsp_transport", "tcp", "-show_streams", live.url]
    ffprobe = await asyncio.to_thread(_run, probe)
    assert ffprobe.returncode == 0, ffprobe.stderr.decode(errors="replace")
    assert b"codec_name=h264" in ffprobe.stdout
    assert f"width={width}".encode() in ffprobe.stdout


@pytest.mark.parametrize(
    ("audio", "codec", "rtpmap"),
    [("aac", "aac", "97 MPEG4-GENERIC/16000/1"), ("pcmu", "pcm_mulaw", "0 PCMU/8000")],
)
async def test_audio_passes_as_the_device_sends_it(
    entry: MockConfigEntry, live: Restream, codec: str, rtpmap: str
) -> None:
    await wait_for(lambda: entry.runtime_data.clips.recorder.connected, 20)
    client = await client_of(live)
    try:
        sdp = (await client.request("DESCRIBE", plain(live))).body.decode()
    finally:
        client.close()
    assert f"a=rtpmap:{rtpmap}" in sdp
    assert "sendonly" not in sdp  # go2rtc would take the track for a backchannel
    async with reading(live.url) as reader:
        await wait_for(lambda: reader.audio_samples > 8000 and len(reader.frames) > GOP, 20)
    assert reader.codecs == {"video": "h264", "audio": codec}
