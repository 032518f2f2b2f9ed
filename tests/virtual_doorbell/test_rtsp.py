"""The simulated doorbell's RTSP server, as FFmpeg (PyAV, ffprobe) and a raw client see it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import contextlib
import itertools
import json
import shutil
import time

import av
import pytest

from custom_components.local_doorbell.rtsp.digest import DigestAuthenticator
from tests.helpers.rtsp import RawClient, Reader, Seen, access_units
from tests.helpers.video import PYAV_OPTIONS
from virtual_doorbell.audio import AudioCodec
from virtual_doorbell.dahua import rtsp_source
from virtual_doorbell.models import MODELS
from virtual_doorbell.rtsp import DeviceRtspServer as RtspServer
from virtual_doorbell.state import DeviceState
from virtual_doorbell.video import VideoSource

USER = "admin"
PASSWORD = "rtsp-test-password"
FPS = 15
TICKS = 90_000 // FPS  # RTP timestamp step between pictures


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def state() -> DeviceState:
    return DeviceState(model=MODELS["AD410"], serial="8L0TEST")


@pytest.fixture
def auth() -> DigestAuthenticator:
    return DigestAuthenticator("Login to 8L0TEST", USER, PASSWORD)


@pytest.fixture
def sources(audio: AudioCodec) -> Iterator[dict[int, VideoSource]]:
    main = VideoSource(320, 240, FPS, gop_seconds=0.5, bitrate=300_000, audio=audio)
    sub = VideoSource(160, 120, FPS, gop_seconds=0.5, bitrate=100_000)
    main.start()
    sub.start()
    yield {0: main, 1: sub}
    main.stop()
    sub.stop()


@pytest.fixture
async def server(
    socket_enabled: None,
    sources: dict[int, VideoSource],
    auth: DigestAuthenticator,
    state: DeviceState,
) -> AsyncIterator[RtspServer]:
    server = RtspServer("127.0.0.1", 0, auth, sources, state, resolve=rtsp_source)
    await server.start()
    yield server
    await server.stop()


def plain_url(port: int, subtype: int = 0) -> str:
    return f"rtsp://127.0.0.1:{port}/cam/realmonitor?channel=1&subtype={subtype}"


def stream_url(port: int, subtype: int = 0, password: str = PASSWORD) -> str:
    return plain_url(port, subtype).replace("//", f"//{USER}:{password}@", 1)


async def wait_for(predicate: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Poll without blocking the loop the server runs on; return whether it came true."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


# --- PyAV in a thread ---------------------------------------------------------------------


@contextlib.asynccontextmanager
async def reading(server: RtspServer, subtype: int = 0) -> AsyncIterator[Reader]:
    reader = Reader(stream_url(server.port, subtype))
    reader.start()
    try:
        yield reader
    finally:
        reader.stopping.set()
        if not await wait_for(lambda: not reader.is_alive(), 2):
            await server.close_sessions()  # unblock a reader waiting for packets
        assert await wait_for(lambda: not reader.is_alive())


def steps(frames: list[Seen]) -> list[int]:
    """Return the pts differences between pictures, after the first."""
    stamps = [f.pts for f in frames[1:]]
    assert None not in stamps
    return [b - a for a, b in itertools.pairwise(stamps) if a is not None and b is not None]


def consecutive(frames: list[Seen]) -> bool:
    return all(b.counter == a.counter + 1 for a, b in itertools.pairwise(frames))


# --- FFmpeg clients -----------------------------------------------------------------------


async def test_pyav_decodes_the_main_stream(server: RtspServer) -> None:
    async with reading(server) as reader:
        assert await wait_for(lambda: len(reader.frames) > 2 * FPS)
    assert reader.codecs == {"video": "h264"}
    assert reader.size == (320, 240)
    assert reader.rate == pytest.approx(FPS)
    frames = reader.frames
    assert consecutive(frames)
    assert set(steps(frames)) == {TICKS}


async def test_sub_stream_has_its_own_size(server: RtspServer) -> None:
    async with reading(server, subtype=1) as reader:
        assert await wait_for(lambda: len(reader.frames) >= 3)
    assert reader.codecs == {"video": "h264"}
    assert reader.size == (160, 120)


@pytest.mark.parametrize(
    ("audio", "codec", "rate"), [("aac", "aac", 16_000), ("pcmu", "pcm_mulaw", 8000)]
)
async def test_audio_track(server: RtspServer, codec: str, rate: int) -> None:
    async with reading(server) as reader:
        assert await wait_for(lambda: reader.audio_samples >= rate // 2 and len(reader.frames) > 5)
    assert reader.codecs == {"video": "h264", "audio": codec}
    assert reader.audio_rate == rate
    assert consecutive(reader.frames)


async def test_wrong_password_or_refusing_device_fails_to_open(
    server: RtspServer, auth: DigestAuthenticator
) -> None:
    def open_stream(url: str) -> None:
        with av.open(url, options=PYAV_OPTIONS, timeout=5):
            pass

    with pytest.raises(av.error.HTTPUnauthorizedError):
        await asyncio.to_thread(open_stream, stream_url(server.port, password="wrong"))
    auth.refuse_all = True
    with pytest.raises(av.error.HTTPUnauthorizedError):
        await asyncio.to_thread(open_stream, stream_url(server.port))


async def test_two_clients_at_once(server: RtspServer, state: DeviceState) -> None:
    async with reading(server) as first, reading(server) as second:
        assert await wait_for(lambda: min(len(first.frames), len(second.frames)) > FPS)
        assert state.counters.rtsp_sessions == 2
    assert consecutive(first.frames)
    assert consecutive(second.frames)
    assert await wait_for(lambda: state.counters.rtsp_sessions == 0)
    assert state.counters.rtsp_sessions_total == 2


async def test_stop_video_holds_frames_back_until_cleared(
    server: RtspServer, state: DeviceState
) -> None:
    async with reading(server) as reader:
        assert await wait_for(lambda: len(reader.frames) >= 5)
        state.faults.stop_video = True
        stopped = time.monotonic()
        await asyncio.sleep(1.5)
        state.faults.stop_video = False
        assert await wait_for(lambda: sum(f.at > stopped + 1.5 for f in reader.frames) > 5)
    frames = reader.frames
    assert not [f for f in frames if stopped + 0.3 < f.at < stopped + 1.5]
    gaps = [b.counter - a.counter for a, b in itertools.pairwise(frames)]
    assert len([g for g in gaps if g != 1]) == 1  # resumed at a keyframe, 1.5 s to 2 s later
    assert FPS * 1.5 <= max(gaps) <= FPS * 2.5


async def test_timestamp_jump_shows_in_pts(server: RtspServer, state: DeviceState) -> None:
    async with reading(server) as reader:
        assert await wait_for(lambda: len(reader.frames) >= 5)
        state.rtp_timestamp_offset += 100
        seen = len(reader.frames)
        assert await wait_for(lambda: len(reader.frames) >= seen + 5)
    frames = reader.frames
    assert consecutive(frames)
    assert sorted(set(steps(frames))) == [TICKS, TICKS + 100 * 90_000]


async def test_stop_drops_clients_and_start_serves_again(
    server: RtspServer, state: DeviceState
) -> None:
    port = server.port
    async with reading(server) as reader:
        assert await wait_for(lambda: len(reader.frames) >= 3)
        await server.stop()
        assert await wait_for(lambda: not reader.is_alive())
    assert state.counters.rtsp_sessions == 0
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    assert await server.start() == port
    async with reading(server) as reader:
        assert await wait_for(lambda: len(reader.frames) >= 3)
    assert state.counters.rtsp_sessions_total == 2


async def test_ffprobe_reports_h264(server: RtspServer) -> None:
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        pytest.fail("ffprobe is missing: install it with `apt-get install ffmpeg`")
    process = await asyncio.create_subprocess_exec(
        ffprobe,
        *("-v", "error", "-rtsp_transport", "tcp", "-of", "json"),
        *("-show_entries", "stream=codec_name,width,height"),
        stream_url(server.port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    streams = json.loads(out)["streams"]
    assert streams == [{"codec_name": "h264", "width": 320, "height": 240}]


# --- the protocol, raw ----------------------------------------------------------------------


@pytest.fixture
async def client(server: RtspServer) -> AsyncIterator[RawClient]:
    client = await RawClient.connect(server.port, USER, PASSWORD)
    yield client
    client.close()


async def test_options_needs_no_auth_but_describe_does(
    server: RtspServer, client: RawClient
) -> None:
    url = plain_url(server.port)
    options = await client.request("OPTIONS", url, auth=False)
    assert options.status == 200
    assert "DESCRIBE" in options.headers["public"]
    assert options.headers["server"] == "Rtsp Server/3.0"
    refused = await client.request("DESCRIBE", url, auth=False)
    assert refused.status == 401
    challenge = refused.headers["www-authenticate"]
    assert challenge.startswith("Digest realm=")
    assert "qop" not in challenge  # like Dahua firmware's RTSP server


async def test_describe_answers_sdp(server: RtspServer, client: RawClient) -> None:
    url = plain_url(server.port)
    reply = await client.request("DESCRIBE", url)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/sdp"
    assert reply.headers["content-base"] == url + "/"
    sdp = reply.body.decode()
    main = server.sources[0]
    assert "a=rtpmap:96 H264/90000" in sdp
    assert f"profile-level-id={main.profile_level_id};" in sdp
    assert "sprop-parameter-sets=" in sdp
    assert "a=control:trackID=0" in sdp
    assert "m=audio" not in sdp


@pytest.mark.parametrize("audio", ["aac"])
async def test_describe_aac(server: RtspServer, client: RawClient) -> None:
    url = plain_url(server.port)
    sdp = (await client.request("DESCRIBE", url)).body.decode()
    assert "a=rtpmap:97 MPEG4-GENERIC/16000/1" in sdp
    assert "mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1408" in sdp
    assert "a=control:trackID=1" in sdp


async def test_errors(server: RtspServer, client: RawClient) -> None:
    base = f"rtsp://127.0.0.1:{server.port}"
    main = f"{base}/cam/realmonitor?channel=1&subtype=0"
    tcp = {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
    for url in (f"{base}/live", f"{base}/cam/realmonitor?channel=2", main[:-1] + "9"):
        assert (await client.request("DESCRIBE", url)).status == 404
    assert (await client.request("DESCRIBE", main + "/trackID=0")).status == 404
    assert (await client.request("SETUP", main + "/trackID=1", tcp)).status == 404
    udp = {"Transport": "RTP/AVP;unicast;client_port=5000-5001"}
    assert (await client.request("SETUP", main + "/trackID=0", udp)).status == 461
    assert (await client.request("PLAY", main)).status == 454  # nothing set up
    assert (await client.request("RECORD", main)).status == 501
    assert (await client.request("SETUP", main + "/trackID=0", tcp)).status == 200
    sub = f"{base}/cam/realmonitor?channel=1&subtype=1/trackID=0"
    assert (await client.request("SETUP", sub, tcp)).status == 459
    client.session = "12345"
    assert (await client.request("PLAY", main)).status == 454


async def test_garbage_and_client_rtcp_are_tolerated(server: RtspServer, client: RawClient) -> None:
    client.send_raw(b"\x16\x03\x01 hello?\r\n\r\n")  # junk, e.g. a TLS client
    assert (await client.reply()).status == 400
    client.send_raw(b"$\x01\x00\x04\x80\xc9\x00\x01")  # a receiver report
    client.send_raw(b"\r\n")  # a stray blank line between requests
    url = plain_url(server.port)
    assert (await client.request("OPTIONS", url)).status == 200


async def test_play_starts_at_a_keyframe_with_parameter_sets(
    server: RtspServer, client: RawClient, state: DeviceState
) -> None:
    url = plain_url(server.port)
    described = await client.request("DESCRIBE", url)
    base = described.headers["content-base"]
    transport = {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
    setup = await client.request("SETUP", base + "trackID=0", transport)
    assert setup.status == 200
    assert setup.headers["session"].endswith(";timeout=60")
    assert state.counters.rtsp_sessions == 1
    ssrc = int(setup.headers["transport"].rpartition("ssrc=")[2], 16)
    play = await client.request("PLAY", base)
    assert play.status == 200
    info = dict(item.split("=", 1) for item in play.headers["rtp-info"].split(";"))
    assert info["url"] == base + "trackID=0"
    units = await access_units(client, 3)
    first = units[0][0]
    assert (first.seq, first.ssrc, first.payload_type) == (int(info["seq"]), ssrc, 96)
    assert 0 <= (first.timestamp - int(info["rtptime"])) % 2**32 <= 0.6 * 90_000
    assert [p.nal_type for p in units[0][:3]] == [7, 8, 5]  # SPS, PPS, then the IDR picture
    assert units[0][0].payload == server.sources[0].sps
    packets = [p for unit in units for p in unit]
    assert [p.seq for p in packets] == [(first.seq + i) % 2**16 for i in range(len(packets))]
    assert [u[0].timestamp - first.timestamp for u in units] == [0, TICKS, 2 * TICKS]
    assert all({p.timestamp for p in unit} == {unit[0].timestamp} for unit in units)
    client.send_raw(b"$\x01\x00\x04\x80\xc9\x00\x01")  # RTCP while playing is ignored
    assert (await client.request("GET_PARAMETER", base)).status == 200
    assert (await client.request("PAUSE", base)).status == 200
    assert (await client.request("TEARDOWN", base)).status == 200
    assert state.counters.rtsp_sessions == 0


async def test_stalled_client_skips_to_keyframes_without_blocking_others(
    socket_enabled: None, auth: DigestAuthenticator, state: DeviceState
) -> None:
    # Big pictures fill the socket buffers quickly, so the server's own queue grows.
    source = VideoSource(1280, 720, FPS, gop_seconds=0.5)
    source.start()
    server = RtspServer(
        "127.0.0.1", 0, auth, {0: source}, state, resolve=rtsp_source, write_limit=20_000
    )
    await server.start()
    stalled = await RawClient.connect(server.port, USER, PASSWORD, receive_buffer=4096)
    try:
        assert (await stalled.play(plain_url(server.port))).status == 200
        async with reading(server) as reader:
            assert await wait_for(lambda: len(reader.frames) > 3 * FPS)
        assert consecutive(reader.frames)  # the stalled client held no one back
        units = await access_units(stalled, 2 * FPS)
    finally:
        stalled.close()
        await server.stop()
        source.stop()
    starts = [units[0][0]]
    starts += [
        b[0] for a, b in itertools.pairwise(units) if b[0].timestamp - a[0].timestamp > TICKS
    ]
    assert len(starts) > 1  # it fell behind and lost pictures...
    assert {p.nal_type for p in starts} == {7}  # ...but always resumed at a keyframe's SPS


async def test_idle_connection_times_out(
    socket_enabled: None,
    sources: dict[int, VideoSource],
    auth: DigestAuthenticator,
    state: DeviceState,
) -> None:
    server = RtspServer(
        "127.0.0.1", 0, auth, sources, state, resolve=rtsp_source, session_timeout=0.3
    )
    await server.start()
    client = await RawClient.connect(server.port, USER, PASSWORD)
    try:
        assert await asyncio.wait_for(client.reader.read(), 3) == b""
    finally:
        client.close()
        await server.stop()


async def test_close_sessions_keeps_listening(
    server: RtspServer, client: RawClient, state: DeviceState
) -> None:
    assert (await client.play(plain_url(server.port))).status == 200
    assert state.counters.rtsp_sessions == 1
    await server.close_sessions()
    assert state.counters.rtsp_sessions == 0

    async def drain() -> None:
        while True:
            await client.frame()

    with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
        await drain()
    again = await RawClient.connect(server.port, USER, PASSWORD)
    url = plain_url(server.port)
    assert (await again.request("OPTIONS", url)).status == 200
    again.close()
