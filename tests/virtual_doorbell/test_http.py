"""The virtual doorbell's web side: digest auth, the Dahua CGI paths, the control API, the CLI."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
import contextlib
import signal
import sys

import aiohttp
import pytest
from yarl import URL

from tests.helpers.events import wait_for
from virtual_doorbell import VirtualDoorbell


@contextlib.asynccontextmanager
async def _requested(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, path: str, password: str = ""
) -> AsyncIterator[aiohttp.ClientResponse]:
    """Request a CGI path with digest auth; yield the answer, for the test to read."""
    auth = aiohttp.DigestAuthMiddleware(doorbell.username, password or doorbell.password)
    url = URL(f"{doorbell.url}/cgi-bin/{path}", encoded=True)
    async with session.get(url, middlewares=(auth,)) as response:
        yield response


async def _cgi(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, path: str, password: str = ""
) -> tuple[int, bytes]:
    async with _requested(session, doorbell, path, password) as response:
        return response.status, await response.read()


async def _read_until(response: aiohttp.ClientResponse, done: Callable[[bytes], bool]) -> bytes:
    """Read a streamed answer until what came satisfies `done`; fail after 5 s."""
    received = b""
    async with asyncio.timeout(5):
        while not done(received):
            received += await response.content.readany()
    return received


async def test_digest_is_required(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{doorbell.url}/cgi-bin/magicBox.cgi?action=getDeviceType") as resp:
        assert resp.status == 401
        challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith("Digest ")
    assert 'qop="auth"' in challenge
    status, _ = await _cgi(session, doorbell, "magicBox.cgi?action=getDeviceType", "wrong")
    assert status == 401
    basic = base64.b64encode(f"{doorbell.username}:{doorbell.password}".encode()).decode()
    async with session.get(
        f"{doorbell.url}/cgi-bin/magicBox.cgi?action=getDeviceType",
        headers={"Authorization": f"Basic {basic}"},
    ) as resp:
        assert resp.status == 401


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("getDeviceType", "type=AD410\r\n"),
        ("getSoftwareVersion", "version=2.800.0000000.7.R,build:2024-05-14\r\n"),
        ("getMachineName", "name=AD410\r\n"),
    ],
)
async def test_magic_box(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession, action: str, expected: str
) -> None:
    status, body = await _cgi(session, doorbell, f"magicBox.cgi?action={action}")
    assert (status, body.decode()) == (200, expected)


async def test_serial_and_system_info(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    _, body = await _cgi(session, doorbell, "magicBox.cgi?action=getSerialNo")
    assert body.decode() == f"sn={doorbell.state.serial}\r\n"
    _, body = await _cgi(session, doorbell, "magicBox.cgi?action=getSystemInfo")
    assert f"serialNumber={doorbell.state.serial}\r\n" in body.decode()
    status, body = await _cgi(session, doorbell, "magicBox.cgi?action=nonsense")
    assert (status, body) == (400, b"Error\r\nBad Request!\r\n")


async def test_config_manager(doorbell: VirtualDoorbell, session: aiohttp.ClientSession) -> None:
    _, body = await _cgi(session, doorbell, "configManager.cgi?action=getConfig&name=RTSP")
    assert f"table.RTSP.Port={doorbell.rtsp_port}\r\n" in body.decode()
    path = "configManager.cgi?action=getConfig&name=T2UServer"
    assert (await _cgi(session, doorbell, path))[1] == b"table.T2UServer.Enable=true\r\n"
    set_off = "configManager.cgi?action=setConfig&T2UServer.Enable=false"
    assert (await _cgi(session, doorbell, set_off)) == (200, b"OK\r\n")
    assert doorbell.state.cloud_enabled is False
    assert (await _cgi(session, doorbell, path))[1] == b"table.T2UServer.Enable=false\r\n"
    bad = "configManager.cgi?action=setConfig&T2UServer.Enable=maybe"
    assert (await _cgi(session, doorbell, bad))[0] == 400
    unknown = "configManager.cgi?action=getConfig&name=Nothing"
    assert (await _cgi(session, doorbell, unknown))[0] == 400


async def test_snapshot(doorbell: VirtualDoorbell, session: aiohttp.ClientSession) -> None:
    status, body = await _cgi(session, doorbell, "snapshot.cgi?channel=1")
    assert status == 200
    assert body.startswith(b"\xff\xd8")
    assert (await _cgi(session, doorbell, "snapshot.cgi?channel=2"))[0] == 400


@pytest.mark.parametrize(
    "query", ["action=detach", "action=attach&heartbeat=0", "action=attach&heartbeat=x"]
)
async def test_event_manager_rejects_bad_requests(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession, query: str
) -> None:
    assert (await _cgi(session, doorbell, f"eventManager.cgi?{query}"))[0] == 400


async def test_event_manager_filters_codes(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    path = "eventManager.cgi?action=attach&codes=[VideoMotion]&heartbeat=1"
    async with _requested(session, doorbell, path) as resp:
        assert resp.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=myboundary"
        doorbell.press()
        doorbell.motion(True)
        received = await _read_until(resp, lambda received: b"VideoMotion" in received)
    assert b"CallNoAnswered" not in received


async def test_control_api(doorbell: VirtualDoorbell, session: aiohttp.ClientSession) -> None:
    async def post(path: str) -> tuple[int, dict[str, object]]:
        async with session.post(f"{doorbell.url}{path}") as resp:
            return resp.status, await resp.json()

    assert doorbell.state.press_frame is None
    before = doorbell.current_frame()
    status, state = await post("/sim/press")
    assert status == 200
    assert state["counters"]["presses"] == 1  # type: ignore[index]
    # The picture the main stream was sending at the press.
    assert before <= state["press_frame"] <= doorbell.current_frame()  # type: ignore[operator]
    assert (await post("/sim/motion?state=start"))[0] == 200
    assert (await post("/sim/motion?state=sideways"))[0] == 400
    assert (await post("/sim/person?state=start"))[0] == 200
    assert (await post("/sim/person?state=up"))[0] == 400
    assert (await post("/sim/fault?kind=melt"))[0] == 400
    assert (await post("/sim/fault?kind=stall&seconds=x"))[0] == 400
    _, state = await post("/sim/fault?kind=stall")
    assert state["faults"]["stall_events"] is True  # type: ignore[index]
    _, state = await post("/sim/fault?kind=clear")
    assert state["faults"]["stall_events"] is False  # type: ignore[index]
    _, state = await post("/sim/quirk?coalesce_parts=true&content_length_space=false")
    assert state["quirks"]["coalesce_parts"] is True  # type: ignore[index]
    assert state["quirks"]["content_length_space"] is False  # type: ignore[index]
    async with session.get(f"{doorbell.url}/sim/state") as resp:
        state = await resp.json()
    assert state["model"] == "AD410"
    assert state["press_frame"] == doorbell.state.press_frame
    assert state["counters"]["motion_events"] == 1
    assert state["counters"]["person_events"] == 1


@pytest.mark.parametrize("doorbell_model", ["AD110"])
async def test_person_on_a_model_without_it(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    async with session.post(f"{doorbell.url}/sim/person?state=start") as resp:
        assert resp.status == 400


async def test_refuse_auth_and_reboot(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    await doorbell.fault("refuse_auth")
    assert (await _cgi(session, doorbell, "magicBox.cgi?action=getDeviceType"))[0] == 401
    doorbell.clear_faults()
    await doorbell.fault("reboot", 1)
    with pytest.raises(aiohttp.ClientError):
        await _cgi(session, doorbell, "magicBox.cgi?action=getDeviceType")
    async with session.get(f"{doorbell.url}/sim/state") as resp:
        assert (await resp.json())["faults"]["rebooting"] is True
    async with asyncio.timeout(5):
        while doorbell.state.faults.rebooting:
            await asyncio.sleep(0.05)
    assert (await _cgi(session, doorbell, "magicBox.cgi?action=getDeviceType"))[0] == 200


async def test_malformed_status_after_the_challenge(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    await doorbell.fault("malformed_status")
    async with session.get(f"{doorbell.url}/cgi-bin/magicBox.cgi?action=getDeviceType") as resp:
        assert resp.status == 401  # the challenge is answered as ever
    with pytest.raises(aiohttp.ClientResponseError, match="status"):
        await _cgi(session, doorbell, "magicBox.cgi?action=getDeviceType")
    doorbell.clear_faults()
    assert (await _cgi(session, doorbell, "magicBox.cgi?action=getDeviceType"))[0] == 200


async def test_oversized_answers_do_not_end(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    await doorbell.fault("oversized")
    async with _requested(session, doorbell, "magicBox.cgi?action=getDeviceType") as resp:
        assert (resp.status, resp.content_length) == (200, None)
        received = await _read_until(resp, lambda received: len(received) >= 1024 * 1024)
    assert received.startswith(b"\xff\xd8\x00\x00")


async def test_deep_nesting_sends_one_event(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    path = "eventManager.cgi?action=attach&codes=[All]&heartbeat=1"
    async with _requested(session, doorbell, path) as resp:
        await wait_for(lambda: doorbell.state.counters.event_clients == 1)
        await doorbell.fault("deep_nesting")
        received = await _read_until(resp, lambda received: received.endswith(b"]}\r\n"))
    assert b'Code=NestedTooDeep;action=Start;index=0;data={"Id":[[[[' in received


async def test_command_line(socket_enabled: None, session: aiohttp.ClientSession) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "virtual_doorbell",
        "--http-port",
        "0",
        "--rtsp-port",
        "0",
        "--password",
        "cli-password",
        "--model",
        "VTO",
        "--width",
        "320",
        "--height",
        "240",
        "--split-parts",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(30):
            lines = [(await process.stdout.readline()).decode() for _ in range(4)]
        assert lines[0].startswith("Virtual doorbell VTO")
        url = lines[1].split()[1]
        assert url.startswith("http://127.0.0.1:")
        async with session.get(f"{url}/sim/state") as resp:
            state = await resp.json()
        assert state["device_type"] == "DH-VTO2202F-P-S2"
        assert state["quirks"]["split_parts"] is True
    finally:
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(15):
            assert await process.wait() == 0
