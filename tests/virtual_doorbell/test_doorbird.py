"""The virtual DoorBird: the LAN-2-LAN API, its limits, the monitor stream, RTSP and the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import signal
import sys

import aiohttp
import av
import pytest

from custom_components.local_doorbell.devices.multipart import MultipartParser
from custom_components.local_doorbell.devices.snapshots import basic_authorization
from tests.helpers.events import WAIT, wait_for
from tests.helpers.rtsp import PYAV_OPTIONS
from virtual_doorbell import VirtualDoorbell
from virtual_doorbell.doorbird import GARBAGE, DoorBirdPersonality, Monitor, mac_for

INITIAL = (
    b"--ioboundary\r\nContent-Type: text/plain\r\n\r\ndoorbell:L\r\n\r\n"
    b"--ioboundary\r\nContent-Type: text/plain\r\n\r\nmotionsensor:L\r\n\r\n"
)
MONITOR = "/bha-api/monitor.cgi?ring=doorbell,motionsensor"


@pytest.fixture
def doorbell_model() -> str:
    """Simulate a DoorBird."""
    return "D101"


def bird(doorbell: VirtualDoorbell) -> DoorBirdPersonality:
    """Return the device's DoorBird personality, for its settings and levels."""
    assert isinstance(doorbell.personality, DoorBirdPersonality)
    return doorbell.personality


def basic(doorbell: VirtualDoorbell, password: str | None = None) -> dict[str, str]:
    """Return basic credentials as headers: the device's, or a wrong password."""
    value = basic_authorization(doorbell.username, password or doorbell.password)
    return {"Authorization": value}


async def get(
    session: aiohttp.ClientSession,
    doorbell: VirtualDoorbell,
    path: str,
    auth: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """Return the status and body of a GET with basic credentials (the right ones by default)."""
    async with session.get(f"{doorbell.url}{path}", headers=auth or basic(doorbell)) as response:
        return response.status, await response.read()


class Reader:
    """An open monitor stream, read part by part with a time limit on every wait."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.parser = MultipartParser("--ioboundary", blank_line_ends_body=True)
        self.pending: list[str] = []

    async def read(self, count: int, limit: float = WAIT) -> list[str]:
        """Return the next `count` part bodies."""
        async with asyncio.timeout(limit):
            while len(self.pending) < count:
                chunk = await self.response.content.readany()
                assert chunk, "the stream ended"
                self.pending += self.parser.feed(chunk)
        parts, self.pending = self.pending[:count], self.pending[count:]
        return parts

    async def drain(self, limit: float = WAIT) -> None:
        """Read until the stream ends."""
        async with asyncio.timeout(limit):
            while await self.response.content.readany():
                pass


@contextlib.asynccontextmanager
async def monitor(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, ring: str = "doorbell,motionsensor"
) -> AsyncIterator[Reader]:
    """Open a monitor stream, skip its initial levels and close it on exit."""
    path = f"/bha-api/monitor.cgi?ring={ring}"
    async with session.get(f"{doorbell.url}{path}", headers=basic(doorbell)) as response:
        assert response.status == 200
        stream = Reader(response)
        await stream.read(len(ring.split(",")))
        yield stream


def first_frame_size(url: str) -> tuple[int, int]:
    """Open an RTSP URL with PyAV and return the size of its first decoded picture."""
    with av.open(url, options=PYAV_OPTIONS, timeout=10) as container:
        for frame in container.decode(video=0):
            return frame.width, frame.height
    raise AssertionError("no picture")


# The LAN API.


@pytest.mark.parametrize("doorbell_model", ["D101", "D1101UV", "D2101V"])
async def test_info(doorbell: VirtualDoorbell, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{doorbell.url}/bha-api/info.cgi", headers=basic(doorbell)) as resp:
        assert resp.status == 200
        info = await resp.json()
    mac = info["BHA"]["VERSION"][0]["PRIMARY_MAC_ADDR"]
    assert info == {
        "BHA": {
            "RETURNCODE": "1",
            "VERSION": [
                {
                    "FIRMWARE": "000109",
                    "BUILD_NUMBER": "15120529",
                    "PRIMARY_MAC_ADDR": mac,
                    "RELAYS": ["1"],
                    "DEVICE-TYPE": f"DoorBird {doorbell.state.model.name}",
                }
            ],
        }
    }
    assert mac.startswith("1CCAE3")
    assert len(mac) == 12
    assert set(mac) <= set("0123456789ABCDEF")
    assert mac == doorbell.state.mac.replace(":", "")


async def test_info_nested_too_deep(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    await doorbell.fault("deep_nesting")
    async with session.get(f"{doorbell.url}/bha-api/info.cgi", headers=basic(doorbell)) as resp:
        body = await resp.text()
    assert body.startswith('{"BHA":{"RETURNCODE":"1","VERSION":[[[[')
    assert len(body) < 64 * 1024
    doorbell.clear_faults()
    async with session.get(f"{doorbell.url}/bha-api/info.cgi", headers=basic(doorbell)) as resp:
        assert (await resp.json())["BHA"]["VERSION"][0]["FIRMWARE"] == "000109"


async def test_malformed_status_and_oversized_answers(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    await doorbell.fault("malformed_status")
    with pytest.raises(aiohttp.ClientResponseError):
        await get(session, doorbell, "/bha-api/info.cgi")
    async with session.get(f"{doorbell.url}/bha-api/info.cgi") as resp:
        assert resp.status == 401  # without credentials: refused as ever
    doorbell.clear_faults()
    await doorbell.fault("oversized")
    async with session.get(f"{doorbell.url}/bha-api/image.cgi", headers=basic(doorbell)) as resp:
        assert (await resp.content.read(2 * 1024 * 1024))[:2] == b"\xff\xd8"


def test_mac_is_stable_per_serial() -> None:
    assert mac_for("A") == mac_for("A") != mac_for("B")
    assert mac_for("A").startswith("1C:CA:E3:")


async def test_image(doorbell: VirtualDoorbell, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{doorbell.url}/bha-api/image.cgi", headers=basic(doorbell)) as resp:
        assert resp.status == 200
        assert resp.content_type == "image/jpeg"
        body = await resp.read()
    assert body.startswith(b"\xff\xd8")
    assert body.endswith(b"\xff\xd9")


async def test_unknown_path(doorbell: VirtualDoorbell, session: aiohttp.ClientSession) -> None:
    assert (await get(session, doorbell, "/cgi-bin/magicBox.cgi?action=getDeviceType"))[0] == 404


# Authentication and limits.


async def test_basic_digest_and_query_credentials(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    info = f"{doorbell.url}/bha-api/info.cgi"
    async with session.get(info) as resp:
        assert resp.status == 401
        challenges = resp.headers.getall("WWW-Authenticate")
    assert [challenge.split()[0] for challenge in challenges] == ["Digest", "Basic"]
    assert (await get(session, doorbell, "/bha-api/info.cgi"))[0] == 200
    digest = aiohttp.DigestAuthMiddleware(doorbell.username, doorbell.password)
    async with session.get(info, middlewares=(digest,)) as resp:
        assert resp.status == 200
    query = {"http-user": doorbell.username, "http-password": doorbell.password}
    async with session.get(info, params=query) as resp:
        assert resp.status == 200


async def test_wrong_credentials(doorbell: VirtualDoorbell, session: aiohttp.ClientSession) -> None:
    info = f"{doorbell.url}/bha-api/info.cgi"
    digest = aiohttp.DigestAuthMiddleware(doorbell.username, "wrong")
    query = {"http-user": doorbell.username, "http-password": "wrong"}
    for request in (
        session.get(info, headers=basic(doorbell, "wrong")),
        session.get(info, middlewares=(digest,)),
        session.get(info, params=query),
        session.get(info, headers={"Authorization": "Basic not-base64!"}),
    ):
        async with request as resp:
            assert resp.status == 401


async def test_refuse_auth(doorbell: VirtualDoorbell, session: aiohttp.ClientSession) -> None:
    await doorbell.fault("refuse_auth")
    assert (await get(session, doorbell, "/bha-api/info.cgi"))[0] == 401
    doorbell.clear_faults()
    assert (await get(session, doorbell, "/bha-api/info.cgi"))[0] == 200


async def test_wrong_credentials_lock_the_client_out(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    settings = bird(doorbell).settings
    settings.lockout_failures, settings.lockout_seconds = 3, 0.3
    for _ in range(5):  # asking without credentials is a challenge, not a failure
        async with session.get(f"{doorbell.url}/bha-api/info.cgi") as resp:
            assert resp.status == 401
    assert (await get(session, doorbell, "/bha-api/info.cgi"))[0] == 200
    for _ in range(3):
        status, _ = await get(session, doorbell, "/bha-api/info.cgi", basic(doorbell, "wrong"))
        assert status == 401
    # Now even the right password is refused, on every path, until the lock ends.
    assert (await get(session, doorbell, "/bha-api/info.cgi"))[0] == 423
    assert (await get(session, doorbell, MONITOR))[0] == 423
    async with asyncio.timeout(WAIT):
        while (await get(session, doorbell, "/bha-api/info.cgi"))[0] == 423:
            await asyncio.sleep(0.05)
    assert (await get(session, doorbell, "/bha-api/info.cgi"))[0] == 200


async def test_requests_beyond_the_burst_get_503(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    bird(doorbell).settings.burst = 2
    statuses = [(await get(session, doorbell, "/bha-api/info.cgi"))[0] for _ in range(3)]
    assert statuses == [200, 200, 503]
    async with asyncio.timeout(WAIT):
        while (await get(session, doorbell, "/bha-api/info.cgi"))[0] == 503:
            await asyncio.sleep(0.05)


async def test_ninth_monitor_stream_gets_509(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    async with contextlib.AsyncExitStack() as streams:
        for _ in range(8):
            await streams.enter_async_context(monitor(session, doorbell))
        assert doorbell.state.counters.event_clients == 8
        async with session.get(f"{doorbell.url}{MONITOR}", headers=basic(doorbell)) as resp:
            assert resp.status == 509
            assert resp.reason == "Bandwidth Limit Exceeded"
    await wait_for(lambda: doorbell.state.counters.event_clients == 0)
    async with monitor(session, doorbell):
        pass


async def test_without_watch_always_permission(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    bird(doorbell).settings.watch_always = False
    assert await get(session, doorbell, MONITOR) == (204, b"")
    assert await get(session, doorbell, "/bha-api/image.cgi") == (204, b"")
    # A ring lets every user see the picture for a minute.
    doorbell.press()
    status, body = await get(session, doorbell, "/bha-api/image.cgi")
    assert (status, body[:2]) == (200, b"\xff\xd8")


@pytest.mark.parametrize("ring", ["", "relay", "doorbell;motionsensor"])
async def test_monitor_needs_known_inputs(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession, ring: str
) -> None:
    assert (await get(session, doorbell, f"/bha-api/monitor.cgi?ring={ring}"))[0] == 400


# The monitor stream.


async def test_monitor_framing_and_initial_levels(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{doorbell.url}{MONITOR}", headers=basic(doorbell)) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=--ioboundary"
        received = b""
        async with asyncio.timeout(WAIT):
            while len(received) < len(INITIAL):
                received += await resp.content.readany()
    assert received == INITIAL


async def test_initial_levels_tell_the_current_state(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    bird(doorbell).settings.release_after = 60
    doorbell.press()
    doorbell.motion(True)
    async with session.get(f"{doorbell.url}{MONITOR}", headers=basic(doorbell)) as resp:
        assert await Reader(resp).read(2) == ["doorbell:H", "motionsensor:H"]


async def test_press_and_motion_are_level_changes(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    bird(doorbell).settings.release_after = 0.05
    async with monitor(session, doorbell) as stream:
        doorbell.press()
        assert await stream.read(2) == ["doorbell:H", "doorbell:L"]
        doorbell.motion(True)
        doorbell.motion(True)  # no change, nothing sent
        doorbell.motion(False)
        assert await stream.read(2) == ["motionsensor:H", "motionsensor:L"]
    assert doorbell.state.counters.presses == 1


async def test_a_press_while_ringing_extends_the_ring(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    bird(doorbell).settings.release_after = 0.2
    async with monitor(session, doorbell) as stream:
        doorbell.press()
        doorbell.press()
        doorbell.motion(True)
        assert await stream.read(3) == ["doorbell:H", "motionsensor:H", "doorbell:L"]


async def test_only_the_inputs_asked_for(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    bird(doorbell).settings.release_after = 0.05
    async with monitor(session, doorbell, ring="motionsensor") as stream:
        doorbell.press()
        await wait_for(lambda: not bird(doorbell).monitors.levels["doorbell"])
        doorbell.motion(True)
        assert await stream.read(1) == ["motionsensor:H"]


async def test_idle_stream_repeats_the_levels(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    personality = bird(doorbell)
    personality.settings.keepalive = 0.05
    doorbell.motion(True)
    async with monitor(session, doorbell) as stream:
        repeats = await stream.read(4)
    assert repeats == ["doorbell:L", "motionsensor:H"] * 2
    assert personality.monitors.keepalives >= 2


def test_a_slow_client_loses_the_oldest_parts() -> None:
    client = Monitor(("doorbell",))
    for index in range(300):
        client.offer(b"%d" % index)
    assert client.queue.qsize() == 256
    assert client.queue.get_nowait() == b"44"


async def test_drop_events_closes_the_streams(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    async with monitor(session, doorbell) as stream:
        await doorbell.fault("drop_events")
        # The device just closes the socket, in the middle of the chunked body.
        with pytest.raises(aiohttp.ClientPayloadError):
            await stream.drain()
    await wait_for(lambda: doorbell.state.counters.event_clients == 0)


async def test_stall_holds_parts_back_until_cleared(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    async with monitor(session, doorbell) as stream:
        await doorbell.fault("stall")
        assert doorbell.state.faults.stall_events
        doorbell.motion(True)
        with pytest.raises(TimeoutError):
            await stream.read(1, limit=0.3)
        doorbell.clear_faults()
        assert await stream.read(1) == ["motionsensor:H"]


async def test_stalled_device_notices_a_client_leaving(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    async with monitor(session, doorbell):
        await doorbell.fault("stall")
    await wait_for(lambda: doorbell.state.counters.event_clients == 0)


async def test_garbage(doorbell: VirtualDoorbell, session: aiohttp.ClientSession) -> None:
    async with monitor(session, doorbell) as stream:
        await doorbell.fault("garbage")
        received = b""
        async with asyncio.timeout(WAIT):
            while len(received) < sum(map(len, GARBAGE)):
                received += await stream.response.content.readany()
    assert received == b"".join(GARBAGE)


async def test_no_person_detection(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    assert doorbell.person(True) is False
    async with session.post(f"{doorbell.url}/sim/person?state=start") as resp:
        assert resp.status == 400
    assert doorbell.state.counters.person_events == 0


# Video and the command line.


async def test_rtsp_paths(doorbell: VirtualDoorbell) -> None:
    main = doorbell.rtsp_url(0)
    assert main.endswith(f":{doorbell.rtsp_port}/mpeg/media.amp")
    assert await asyncio.to_thread(first_frame_size, main) == (320, 240)
    sub = doorbell.rtsp_url(1)
    assert sub.endswith("/mpeg/720p/media.amp")
    assert await asyncio.to_thread(first_frame_size, sub) == (106, 80)
    dahua_path = main.replace("/mpeg/media.amp", "/cam/realmonitor?channel=1&subtype=0")
    with pytest.raises(av.error.HTTPNotFoundError):
        await asyncio.to_thread(first_frame_size, dahua_path)


async def test_command_line(socket_enabled: None, session: aiohttp.ClientSession) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "virtual_doorbell", "--model", "D101", "--password", "x"),
        *("--http-port", "0", "--rtsp-port", "0", "--width", "320", "--height", "240"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(30):
            lines = [(await process.stdout.readline()).decode() for _ in range(3)]
        assert lines[0].startswith("Virtual doorbell D101")
        assert lines[2].split()[1].endswith("/mpeg/media.amp")
        url = lines[1].split()[1]
        async with session.get(
            f"{url}/bha-api/info.cgi", headers={"Authorization": basic_authorization("admin", "x")}
        ) as r:
            info = await r.json()
        assert info["BHA"]["VERSION"][0]["DEVICE-TYPE"] == "DoorBird D101"
    finally:
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(15):
            assert await process.wait() == 0
