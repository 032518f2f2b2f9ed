"""The Dahua driver against the virtual doorbell, and against a few badly behaved servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import itertools
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.local_doorbell.devices.base import (
    CannotConnect,
    DoorbellEvent,
    EventKind,
    url_host,
)
from custom_components.local_doorbell.devices.dahua import (
    DahuaDoorbell,
    Family,
    family_for,
    manufacturer_for,
    parse_key_values,
)
from tests.helpers.drivers import dahua_driver, online, starts_and_stops
from tests.helpers.events import Events, events_of, wait_for
from tests.helpers.servers import NOT_A_PICTURE, serving
from virtual_doorbell import VirtualDoorbell

ALL_MODELS = ["AD110", "AD410", "DB61i", "VTO"]
QUIRKS = [None, "coalesce_parts", "split_parts", "stray_http_line", "content_length_space"]


async def one_ring(
    events: Events, doorbell: VirtualDoorbell, *, alone: bool = False
) -> DoorbellEvent:
    """Press, and check that the press gives exactly one ring (and nothing else before it)."""
    doorbell.press()
    seen = await events.until(EventKind.RING)
    if alone:
        assert len(seen) == 1
    ring = seen[-1]
    # Motion after the press is a marker: every code of the press has arrived before it.
    doorbell.motion(True)
    assert [event.kind for event in await events.until(EventKind.MOTION)] == [EventKind.MOTION]
    return ring


# Identity, streams, snapshot and cloud switch.


@pytest.mark.parametrize(
    ("doorbell_model", "manufacturer", "has_person"),
    [
        ("AD110", "Amcrest", False),
        ("AD410", "Amcrest", True),
        ("DB61i", "Dahua", True),
        ("VTO", "Dahua", False),
    ],
)
async def test_probe(
    session: aiohttp.ClientSession,
    doorbell: VirtualDoorbell,
    manufacturer: str,
    has_person: bool,
) -> None:
    info = await dahua_driver(session, doorbell).probe()
    assert info.manufacturer == manufacturer
    assert info.model == doorbell.state.model.device_type
    assert info.serial == doorbell.state.serial
    assert info.firmware == doorbell.state.firmware
    assert info.mac == doorbell.state.mac.lower()
    assert info.has_person is has_person


def test_heartbeat_range() -> None:
    with pytest.raises(ValueError, match="heartbeat"):
        DahuaDoorbell(None, "127.0.0.1", 80, "admin", "x", heartbeat=0)  # type: ignore[arg-type]


async def test_stream_urls(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    device = dahua_driver(session, doorbell)
    urls = await device.stream_urls()
    assert urls.main == doorbell.rtsp_url(0)
    assert urls.sub == doorbell.rtsp_url(1)
    assert f":{doorbell.rtsp_port}/" in urls.main
    # The port is cached: a device that is rebooting still gets its addresses.
    await doorbell.fault("reboot", 1)
    assert await device.stream_urls() == urls


async def test_cloud_switch(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    device = dahua_driver(session, doorbell)
    assert await device.cloud_enabled() is True
    await device.disable_cloud()
    assert doorbell.state.cloud_enabled is False
    assert await device.cloud_enabled() is False


# The event stream.


@pytest.mark.parametrize("quirk", QUIRKS)
@pytest.mark.parametrize("doorbell_model", ALL_MODELS)
async def test_press_is_one_ring(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, quirk: str | None
) -> None:
    if quirk == "content_length_space":
        doorbell.state.quirks.content_length_space = not doorbell.state.model.spaced_content_length
    elif quirk is not None:
        setattr(doorbell.state.quirks, quirk, True)
    async with events_of(dahua_driver(session, doorbell)) as events:
        await online(events, doorbell)
        ring = await one_ring(events, doorbell)
    assert ring.active is True
    assert ring.code in ("_DoTalkAction_", "CallNoAnswered", "BackKeyLight")


@pytest.mark.parametrize("doorbell_model", ALL_MODELS)
async def test_motion_and_person(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    async with events_of(dahua_driver(session, doorbell)) as events:
        await online(events, doorbell)
        await starts_and_stops(events, doorbell)
        if doorbell.state.model.has_person:
            await starts_and_stops(events, doorbell, EventKind.PERSON)
        await one_ring(events, doorbell, alone=True)


async def test_rings_are_debounced(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    async with events_of(dahua_driver(session, doorbell, ring_debounce=60)) as events:
        await online(events, doorbell)
        await one_ring(events, doorbell)
        doorbell.press()
        doorbell.motion(False)
        assert [e.kind for e in await events.until(EventKind.MOTION)] == [EventKind.MOTION]


async def test_stalled_stream_is_offline_until_it_flows_again(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    seen: list[EventKind] = []

    async def consume() -> None:
        async for event in dahua_driver(session, doorbell, stall_timeout=1.2).events():
            seen.append(event.kind)

    task = asyncio.create_task(consume())
    await wait_for(lambda: seen == [EventKind.ONLINE])
    await doorbell.fault("stall")
    await wait_for(lambda: seen == [EventKind.ONLINE, EventKind.OFFLINE])
    # The stalled device answers every reattach with 200, then stays silent: not online.
    attached = doorbell.state.counters.event_clients_total
    await wait_for(lambda: doorbell.state.counters.event_clients_total >= attached + 2, 10)
    assert seen == [EventKind.ONLINE, EventKind.OFFLINE]
    doorbell.clear_faults()
    await wait_for(lambda: seen == [EventKind.ONLINE, EventKind.OFFLINE, EventKind.ONLINE])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_attach_refused_then_accepted(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    doorbell.state.heartbeat_max = 0  # every attach is answered 400
    async with events_of(dahua_driver(session, doorbell)) as events:
        assert (await events.next()).kind is EventKind.OFFLINE
        doorbell.state.heartbeat_max = 60
        await online(events, doorbell)
        await one_ring(events, doorbell)


# Servers that answer oddly.

Routes = dict[str, Callable[[], web.StreamResponse]]
# The brackets go out unencoded, as the firmware documentation writes them.
ATTACH = "eventManager.cgi?action=attach&codes=[All]&heartbeat=5"


@pytest.fixture
async def odd_server(socket_enabled: None) -> AsyncIterator[tuple[int, Routes]]:
    """Run a server without authentication whose answers each test chooses by path."""
    routes: Routes = {}

    async def answer(request: web.Request) -> web.StreamResponse:
        route = routes.get(request.raw_path.removeprefix("/cgi-bin/"))
        if route is None:
            return web.Response(status=400, text="Error\r\nBad Request!\r\n")
        return route()

    async with serving(answer) as port:
        yield port, routes


def odd_driver(session: aiohttp.ClientSession, port: int) -> DahuaDoorbell:
    """Return a driver for the odd server."""
    return DahuaDoorbell(session, "127.0.0.1", port, "admin", "secret", backoff_base=0.05)


def text(body: str) -> Callable[[], web.StreamResponse]:
    """Return a route answering plain text."""
    return lambda: web.Response(text=body)


async def test_probe_falls_back_to_system_info(
    session: aiohttp.ClientSession, odd_server: tuple[int, Routes]
) -> None:
    port, routes = odd_server
    routes["magicBox.cgi?action=getDeviceType"] = text("\r\n\r\nsomething else\r\n")
    routes["magicBox.cgi?action=getSystemInfo"] = text(
        "deviceType=DHI-VTO2111D\r\nserialNumber=ABC123\r\n"
    )
    info = await odd_driver(session, port).probe()
    assert (info.manufacturer, info.model, info.serial) == ("Dahua", "DHI-VTO2111D", "ABC123")
    assert (info.firmware, info.mac, info.has_person) == ("", None, False)


async def test_probe_without_identity(
    session: aiohttp.ClientSession, odd_server: tuple[int, Routes]
) -> None:
    port, routes = odd_server
    routes["magicBox.cgi?action=getDeviceType"] = text("type=AD410")
    with pytest.raises(CannotConnect, match="serial"):
        await odd_driver(session, port).probe()


async def test_probe_mac_of_another_interface(
    session: aiohttp.ClientSession, odd_server: tuple[int, Routes]
) -> None:
    port, routes = odd_server
    routes["magicBox.cgi?action=getDeviceType"] = text("type=AD110\n")
    routes["magicBox.cgi?action=getSerialNo"] = text("sn=XYZ\n")
    routes["configManager.cgi?action=getConfig&name=Network"] = text(
        "table.Network.eth0.PhysicalAddress=\r\ntable.Network.wlan0.PhysicalAddress=9C:8E:CD:AA\r\n"
    )
    info = await odd_driver(session, port).probe()
    assert info.mac == "9c:8e:cd:aa"


@pytest.mark.parametrize("answer", [None, "table.RTSP.Port=oops", "table.RTSP.Port=70000"])
async def test_rtsp_port_defaults_to_554(
    session: aiohttp.ClientSession, odd_server: tuple[int, Routes], answer: str | None
) -> None:
    port, routes = odd_server
    if answer is not None:
        routes["configManager.cgi?action=getConfig&name=RTSP"] = text(answer)
    urls = await odd_driver(session, port).stream_urls()
    assert urls.main == "rtsp://admin:secret@127.0.0.1:554/cam/realmonitor?channel=1&subtype=0"


@pytest.mark.parametrize("answer", NOT_A_PICTURE)
async def test_snapshot_failures(
    session: aiohttp.ClientSession, odd_server: tuple[int, Routes], answer: dict[str, Any]
) -> None:
    port, routes = odd_server
    routes["snapshot.cgi?channel=1"] = lambda: web.Response(**answer)
    with pytest.raises(CannotConnect):
        await odd_driver(session, port).snapshot()


async def test_cloud_failures(
    session: aiohttp.ClientSession, odd_server: tuple[int, Routes]
) -> None:
    port, routes = odd_server
    routes["configManager.cgi?action=getConfig&name=T2UServer"] = text("table.T2UServer.Enable=")
    routes["configManager.cgi?action=setConfig&T2UServer.Enable=false"] = text("Error\r\n")
    device = odd_driver(session, port)
    with pytest.raises(CannotConnect, match="whether"):
        await device.cloud_enabled()
    with pytest.raises(CannotConnect, match="off"):
        await device.disable_cloud()


async def test_events_with_another_boundary(
    session: aiohttp.ClientSession, odd_server: tuple[int, Routes]
) -> None:
    port, routes = odd_server

    def stream() -> web.StreamResponse:
        # One press, then the server closes: the driver reports it and reconnects.
        press = b"Code=Invite;action=Pulse;x=1"
        body = b"--other\r\nContent-Length: %d\r\n\r\n%s\r\n" % (len(press), press)
        return web.Response(
            body=body, headers={"Content-Type": "multipart/x-mixed-replace; boundary=other"}
        )

    routes[ATTACH] = stream
    async with events_of(odd_driver(session, port)) as events:
        kinds = [(await events.next()).kind for _ in range(4)]
    assert kinds == [EventKind.ONLINE, EventKind.RING, EventKind.OFFLINE, EventKind.ONLINE]


async def test_back_off_doubles_and_resets_after_a_healthy_stream(
    session: aiohttp.ClientSession, odd_server: tuple[int, Routes]
) -> None:
    port, routes = odd_server
    base = 0.1
    attempts: list[float] = []

    def attach() -> web.StreamResponse:
        attempts.append(asyncio.get_running_loop().time())
        if len(attempts) != 4:
            return web.Response(status=503)
        # The fourth attempt gets a stream with one heartbeat, then the server hangs up.
        return web.Response(
            body=b"--myboundary\r\nContent-Length:9\r\n\r\nHeartbeat\r\n",
            headers={"Content-Type": "multipart/x-mixed-replace; boundary=myboundary"},
        )

    routes[ATTACH] = attach
    device = DahuaDoorbell(session, "127.0.0.1", port, "admin", "secret", backoff_base=base)
    async with events_of(device) as events:
        kinds = [(await events.next()).kind for _ in range(3)]
        assert kinds == [EventKind.OFFLINE, EventKind.ONLINE, EventKind.OFFLINE]
        # Nothing more to report while the attempts go on.
        with pytest.raises(TimeoutError):
            await events.next(limit=0.5)
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert len(gaps) >= 5
    for gap, factor in zip(gaps, [1, 2, 4, 1, 2], strict=False):
        assert 0.8 * base * factor <= gap <= 1.2 * base * factor + 0.15, gaps


# Pure helpers.


@pytest.mark.parametrize(
    ("model", "family", "manufacturer"),
    [
        ("AD110", Family.AD110, "Amcrest"),
        ("AD410", Family.AD410, "Amcrest"),
        ("ad410", Family.AD410, "Amcrest"),
        ("AD210", Family.AD410, "Amcrest"),
        ("ASH21", None, "Amcrest"),
        ("DB61i", Family.AD410, "Dahua"),
        ("DB2X", Family.AD410, "Dahua"),
        ("VTO2202F-P-S2", Family.VTO, "Dahua"),
        ("DH-VTO2202F-P-S2", Family.VTO, "Dahua"),
        ("DHI-VTO2111D", Family.VTO, "Dahua"),
        ("IPC-HDW2431", None, "Dahua"),
    ],
)
def test_families(model: str, family: Family | None, manufacturer: str) -> None:
    assert family_for(model) is family
    assert manufacturer_for(model) == manufacturer


def test_parse_key_values() -> None:
    text = "\r\ntype=AD410\r\n\r\n  version = 1.0=beta \nError\n=nokey\n"
    assert parse_key_values(text) == {"type": "AD410", "version": "1.0=beta"}


@pytest.mark.parametrize(
    ("host", "expected"),
    [("192.168.1.20", "192.168.1.20"), ("fe80::1", "[fe80::1]"), ("[::1]", "[::1]")],
)
def test_url_host(host: str, expected: str) -> None:
    assert url_host(host) == expected
