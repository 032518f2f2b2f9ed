"""The generic driver against the virtual doorbell's RTSP stream and small snapshot servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
import socket

import aiohttp
from aiohttp import web
import pytest

from custom_components.local_doorbell.devices.base import (
    CannotConnect,
    DoorbellEvent,
    EventKind,
    InvalidAuth,
    host_and_port,
)
from custom_components.local_doorbell.devices.detect import DeviceApi, detect, network_device
from custom_components.local_doorbell.devices.generic import GenericDoorbell
from tests.helpers.servers import Handler, serving
from virtual_doorbell import VirtualDoorbell

JPEG = b"\xff\xd8\xff\xe0 a picture"


@pytest.fixture
async def serve(socket_enabled: None) -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Serve one handler at /snap.jpg on loopback; return its base URL with credentials."""
    async with contextlib.AsyncExitStack() as servers:

        async def start(handler: Handler) -> str:
            port = await servers.enter_async_context(serving(handler, "/snap.jpg"))
            return f"http://user:p%40ss@127.0.0.1:{port}/snap.jpg"

        yield start


def camera(
    session: aiohttp.ClientSession, stream_url: str, snapshot_url: str | None = None
) -> GenericDoorbell:
    return GenericDoorbell(
        session,
        stream_url=stream_url,
        snapshot_url=snapshot_url,
        name="Gate",
        serial="GATE01",
        open_timeout=5.0,
    )


async def test_probe_opens_the_stream(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    snapshot = f"http://admin:{doorbell.password}@127.0.0.1:{doorbell.http_port}"
    device = camera(session, doorbell.rtsp_url(), snapshot + "/cgi-bin/snapshot.cgi")
    info = await device.probe()
    assert (info.model, info.serial, info.has_motion) == ("RTSP camera (H264)", "GATE01", False)
    urls = await device.stream_urls()
    assert urls.main == urls.sub == doorbell.rtsp_url()
    assert (await device.snapshot()).startswith(b"\xff\xd8")


async def test_probe_errors_name_no_password(
    doorbell: VirtualDoorbell, session: aiohttp.ClientSession
) -> None:
    wrong = doorbell.rtsp_url().replace(doorbell.password, "wrong-secret")
    with pytest.raises(InvalidAuth) as refused:
        await camera(session, wrong).probe()
    assert "wrong-secret" not in str(refused.value)
    missing = doorbell.rtsp_url().replace("subtype=0", "subtype=9")
    with pytest.raises(CannotConnect) as absent:
        await camera(session, missing).probe()
    assert doorbell.password not in str(absent.value)


async def test_events_are_what_is_pushed(session: aiohttp.ClientSession) -> None:
    device = camera(session, "rtsp://127.0.0.1/live")
    events = device.events()
    assert (await anext(events)).kind is EventKind.ONLINE
    device.push(DoorbellEvent(kind=EventKind.RING, code="binary_sensor.button"))
    assert (await anext(events)).kind is EventKind.RING
    await events.aclose()


async def test_snapshot_with_basic_auth(
    serve: Callable[[Handler], Awaitable[str]], session: aiohttp.ClientSession
) -> None:
    seen: list[str] = []

    async def basic(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        if request.headers.get("Authorization") != "Basic dXNlcjpwQHNz":  # user:p@ss
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="cam"'})
        return web.Response(body=JPEG, content_type="image/jpeg")

    url = await serve(basic)
    assert await camera(session, "rtsp://127.0.0.1/live", url).snapshot() == JPEG
    # Asked first without credentials: a digest camera would never see the password.
    assert seen == ["", "Basic dXNlcjpwQHNz"]


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [(401, b"", InvalidAuth), (500, b"", CannotConnect), (200, b"<html>", CannotConnect)],
)
async def test_snapshot_failures(
    serve: Callable[[Handler], Awaitable[str]],
    session: aiohttp.ClientSession,
    status: int,
    body: bytes,
    error: type[Exception],
) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body)

    url = await serve(answer)
    with pytest.raises(error):
        await camera(session, "rtsp://127.0.0.1/live", url).snapshot()


async def test_snapshot_needs_a_url_and_an_answer(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(CannotConnect, match="no snapshot URL"):
        await camera(session, "rtsp://127.0.0.1/live").snapshot()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(CannotConnect):
        await camera(session, "rtsp://127.0.0.1/live", f"http://127.0.0.1:{closed}/s").snapshot()
    with pytest.raises(InvalidAuth):  # digest cannot carry a ':' in the user name
        await camera(session, "rtsp://127.0.0.1/live", "http://a%3Ab:c@127.0.0.1/s").snapshot()


def test_urls_are_checked(session: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="RTSP"):
        camera(session, "http://127.0.0.1/live")
    with pytest.raises(ValueError, match="HTTP"):
        camera(session, "rtsp://127.0.0.1/live", "ftp://127.0.0.1/snap.jpg")
    assert host_and_port("rtsps://[fd00::5]/live") == ("fd00::5", 322)
    assert host_and_port("http://cam.lan:8080/s.jpg") == ("cam.lan", 8080)
    with pytest.raises(ValueError, match="no host"):
        host_and_port("rtsp:///live")


async def test_detection_finds_nothing_on_a_closed_port(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(CannotConnect, match="No supported doorbell"):
        await detect(session, "127.0.0.1", closed, "admin", "x")
    with pytest.raises(ValueError, match="not reached by address"):
        network_device(
            DeviceApi.GENERIC, session, host="127.0.0.1", port=80, username="a", password="b"
        )
