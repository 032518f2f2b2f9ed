"""The DoorBird driver against the virtual DoorBird, and against a few badly behaved servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.local_doorbell.devices import backoff as backoff_module
from custom_components.local_doorbell.devices.backoff import BACKOFF_MAX
from custom_components.local_doorbell.devices.base import (
    CannotConnect,
    DoorbellEvent,
    EventKind,
    InvalidAuth,
)
from custom_components.local_doorbell.devices.doorbird import (
    DoorBirdDoorbell,
    InputTracker,
    parse_info,
    parse_input,
)
from tests.helpers.drivers import bird, doorbird_driver, online, starts_and_stops
from tests.helpers.events import Events, events_in_background, wait_for
from tests.helpers.servers import NOT_A_PICTURE, serving
from tests.helpers.video import first_picture
from virtual_doorbell import VirtualDoorbell

LOGGER = "custom_components.local_doorbell.devices.doorbird"
LEVELS = ("doorbell:L", "doorbell:H")


@pytest.fixture
def doorbell_model() -> str:
    """Simulate a DoorBird."""
    return "D101"


@pytest.fixture
def doorbell(doorbell: VirtualDoorbell) -> VirtualDoorbell:
    """Return the shared virtual doorbell with its button released after 0.1 s, for speed."""
    bird(doorbell).settings.release_after = 0.1
    return doorbell


async def one_ring(events: Events, doorbell: VirtualDoorbell) -> DoorbellEvent:
    """Press, check that the press gives exactly one ring, and wait for the button's release."""
    doorbell.press()
    ring = await events.next()
    assert ring.kind is EventKind.RING
    await wait_for(lambda: not bird(doorbell).monitors.levels["doorbell"])
    return ring


# Identity, streams and snapshot.


@pytest.mark.parametrize("doorbell_model", ["D101", "D1101UV", "D2101V"])
async def test_probe(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    info = await doorbird_driver(session, doorbell).probe()
    mac = doorbell.state.mac
    assert info.manufacturer == "DoorBird"
    assert info.model == doorbell.state.model.name  # "D101": the maker is named once
    assert info.serial == mac.replace(":", "").upper()
    assert info.firmware == "000109 (build 15120529)"
    assert info.mac == mac.lower()
    assert info.has_person is False


async def test_lockout(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, caplog: pytest.LogCaptureFixture
) -> None:
    settings = bird(doorbell).settings
    settings.lockout_failures, settings.lockout_seconds = 2, 1.0
    for _ in range(2):
        with pytest.raises(InvalidAuth):
            await doorbird_driver(session, doorbell, password="wrong").probe()
    device = doorbird_driver(session, doorbell)
    with pytest.raises(CannotConnect, match="locked"):
        await device.probe()
    caplog.set_level(logging.WARNING, LOGGER)
    async with events_in_background(device) as events:
        assert (await events.next()).kind is EventKind.OFFLINE
        await online(events, doorbell)  # the lock ends by itself
        await one_ring(events, doorbell)
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "locked" in warnings[0].getMessage()


async def test_stream_urls(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    urls = await doorbird_driver(session, doorbell).stream_urls()
    assert urls.main == doorbell.rtsp_url(0)
    assert urls.sub == urls.main
    assert await asyncio.to_thread(first_picture, urls.main) == (320, 240)


async def test_default_rtsp_port(session: aiohttp.ClientSession) -> None:
    urls = await DoorBirdDoorbell(session, "fe80::1", 80, "admin", "x").stream_urls()
    assert urls.main == "rtsp://admin:x@[fe80::1]:554/mpeg/media.amp"


async def test_snapshot_without_permission(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    bird(doorbell).settings.watch_always = False
    with pytest.raises(CannotConnect, match="watch always"):
        await doorbird_driver(session, doorbell).snapshot()


# The monitor stream.


async def test_press_is_one_ring_whatever_the_repeats(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    personality = bird(doorbell)
    personality.settings.keepalive = 0.02
    personality.settings.release_after = 0.3
    async with events_in_background(doorbird_driver(session, doorbell)) as events:
        await online(events, doorbell)
        doorbell.press()
        ring = await events.next()
        assert (ring.kind, ring.active, ring.code) == (EventKind.RING, True, "doorbell")
        # The device repeats `doorbell:H` while the button is held, then `doorbell:L`.
        sent = personality.monitors.keepalives
        await wait_for(lambda: personality.monitors.keepalives >= sent + 3)
        await wait_for(lambda: not personality.monitors.levels["doorbell"])
        sent = personality.monitors.keepalives
        await wait_for(lambda: personality.monitors.keepalives >= sent + 3)
        await starts_and_stops(events, doorbell)
        await one_ring(events, doorbell)
        await starts_and_stops(events, doorbell)


async def test_initial_levels_are_not_edges(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    bird(doorbell).settings.release_after = 60
    doorbell.press()
    doorbell.motion(True)
    async with events_in_background(doorbird_driver(session, doorbell)) as events:
        await online(events, doorbell)
        # Motion already going on is news; a button already held is not a press.
        motion = await events.next()
        assert (motion.kind, motion.active) == (EventKind.MOTION, True)
        doorbell.motion(False)
        motion = await events.next()
        assert (motion.kind, motion.active) == (EventKind.MOTION, False)


async def test_motion_edges(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    bird(doorbell).settings.keepalive = 0.02
    async with events_in_background(doorbird_driver(session, doorbell)) as events:
        await online(events, doorbell)
        doorbell.motion(True)
        motion = await events.next()
        assert (motion.kind, motion.active, motion.code) == (EventKind.MOTION, True, "motionsensor")
        sent = bird(doorbell).monitors.keepalives
        await wait_for(lambda: bird(doorbell).monitors.keepalives >= sent + 3)
        doorbell.motion(False)
        motion = await events.next()
        assert (motion.kind, motion.active) == (EventKind.MOTION, False)
        await one_ring(events, doorbell)


async def test_stalled_stream_is_dropped(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    device = doorbird_driver(session, doorbell, stall_timeout=0.5, open_timeout=0.5)
    async with events_in_background(device) as events:
        await online(events, doorbell)
        await doorbell.fault("stall")
        # The quiet reconnect gets its headers but no levels: that is OFFLINE.
        assert (await events.next()).kind is EventKind.OFFLINE
        assert doorbell.state.counters.event_clients_total >= 2
        doorbell.clear_faults()
        await online(events, doorbell)
        await one_ring(events, doorbell)


async def test_too_many_streams_back_off(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    others = [doorbird_driver(session, doorbell) for _ in range(8)]
    async with contextlib.AsyncExitStack() as stack:
        for other in others:
            await online(await stack.enter_async_context(events_in_background(other)), doorbell)
        async with events_in_background(doorbird_driver(session, doorbell)) as events:
            assert (await events.next()).kind is EventKind.OFFLINE
            await wait_for(
                lambda: sum("monitor streams" in r.getMessage() for r in caplog.records) >= 3
            )
            await stack.aclose()
            await online(events, doorbell)
            await one_ring(events, doorbell)
    refused = [r for r in caplog.records if "monitor streams" in r.getMessage()]
    assert [r.levelno for r in refused].count(logging.WARNING) == 1


async def test_without_watch_always_permission(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, caplog: pytest.LogCaptureFixture
) -> None:
    settings = bird(doorbell).settings
    settings.watch_always = False
    caplog.set_level(logging.DEBUG, LOGGER)
    async with events_in_background(doorbird_driver(session, doorbell)) as events:
        assert (await events.next()).kind is EventKind.OFFLINE
        await wait_for(lambda: sum("watch always" in r.getMessage() for r in caplog.records) >= 3)
        settings.watch_always = True
        await online(events, doorbell)
    refused = [r for r in caplog.records if "watch always" in r.getMessage()]
    assert [r.levelno for r in refused].count(logging.WARNING) == 1


async def test_rate_limited_attach_backs_off(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    bird(doorbell).settings.burst = 1
    device = doorbird_driver(session, doorbell)
    await device.probe()  # the one request this second allows
    async with events_in_background(device) as events:
        assert (await events.next()).kind is EventKind.OFFLINE
        await online(events, doorbell)
        await one_ring(events, doorbell)


# Servers that answer oddly.

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def odd_server(socket_enabled: None) -> AsyncIterator[tuple[int, dict[str, Route]]]:
    """Run a server without authentication whose answers each test chooses by path."""
    routes: dict[str, Route] = {}

    async def answer(request: web.Request) -> web.StreamResponse:
        route = routes.get(request.path.removeprefix("/bha-api/"))
        return web.Response(status=404) if route is None else await route(request)

    async with serving(answer) as port:
        yield port, routes


def odd_driver(session: aiohttp.ClientSession, port: int, **options: Any) -> DoorBirdDoorbell:
    """Return a driver for the odd server."""
    options = {"backoff_base": 0.05, **options}
    return DoorBirdDoorbell(session, "127.0.0.1", port, "admin", "secret", **options)


def reply(**answer: object) -> Route:
    """Return a route that answers the same every time."""

    async def route(request: web.Request) -> web.StreamResponse:
        return web.Response(**answer)  # type: ignore[arg-type]

    return route


def stream(body: bytes, content_type: str = "multipart/x-mixed-replace") -> Route:
    """Return a route that sends a monitor body, then holds the connection until the client goes."""

    async def route(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        await response.write(body)
        while request.transport is not None:
            await asyncio.sleep(0.02)
        return response

    return route


@pytest.mark.parametrize(
    ("version", "model", "firmware", "mac"),
    [
        (
            {"FIRMWARE": "000100", "BUILD_NUMBER": 43119, "WIFI_MAC_ADDR": "1ccae37073be"},
            "DoorBird",
            "000100 (build 43119)",
            "1c:ca:e3:70:73:be",
        ),
        (
            {"PRIMARY_MAC_ADDR": "1C:CA:E3:70:73:BF", "DEVICE-TYPE": "DoorBird D2101V"},
            "D2101V",
            "",
            "1c:ca:e3:70:73:bf",
        ),
        (
            {"PRIMARY_MAC_ADDR": "", "WIFI_MAC_ADDR": "1CCAE37073C0", "FIRMWARE": "000134"},
            "DoorBird",
            "000134",
            "1c:ca:e3:70:73:c0",
        ),
    ],
)
async def test_probe_of_other_firmware(
    session: aiohttp.ClientSession,
    odd_server: tuple[int, dict[str, Route]],
    version: dict[str, object],
    model: str,
    firmware: str,
    mac: str,
) -> None:
    port, routes = odd_server
    routes["info.cgi"] = reply(text=_info(version), content_type="text/plain")
    info = await odd_driver(session, port).probe()
    assert (info.model, info.firmware, info.mac) == (model, firmware, mac)
    assert info.serial == mac.replace(":", "").upper()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html>not json</html>", "DoorBird"),
        ('{"BHA": {"RETURNCODE": "0", "VERSION": [{}]}}', "DoorBird"),
        ('{"BHA": {"RETURNCODE": "1", "VERSION": []}}', "DoorBird"),
        ('{"BHA": {"RETURNCODE": "1", "VERSION": ["x"]}}', "DoorBird"),
        ('{"BHA": []}', "DoorBird"),
        ('{"BHA": {"RETURNCODE": "1", "VERSION": [{"FIRMWARE": "1"}]}}', "MAC"),
        ('{"BHA": {"RETURNCODE": "1", "VERSION": [{"WIFI_MAC_ADDR": 1}]}}', "MAC"),
        ('{"BHA": {"RETURNCODE": "1", "VERSION": [{"WIFI_MAC_ADDR": "1CCAE3"}]}}', "MAC"),
    ],
)
async def test_probe_of_something_else(
    session: aiohttp.ClientSession,
    odd_server: tuple[int, dict[str, Route]],
    body: str,
    message: str,
) -> None:
    port, routes = odd_server
    routes["info.cgi"] = reply(text=body)
    with pytest.raises(CannotConnect, match=message):
        await odd_driver(session, port).probe()


@pytest.mark.parametrize("answer", NOT_A_PICTURE)
async def test_snapshot_failures(
    session: aiohttp.ClientSession, odd_server: tuple[int, dict[str, Route]], answer: dict[str, Any]
) -> None:
    port, routes = odd_server
    routes["image.cgi"] = reply(**answer)
    with pytest.raises(CannotConnect):
        await odd_driver(session, port).snapshot()


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/x-mixed-replace; boundary=--ioboundary",
        "multipart/x-mixed-replace",  # no boundary named: DoorBird's
        "multipart/x-mixed-replace; boundary=other",
    ],
)
async def test_monitor_boundaries(
    session: aiohttp.ClientSession,
    odd_server: tuple[int, dict[str, Route]],
    content_type: str,
) -> None:
    port, routes = odd_server
    boundary = "--other" if content_type.endswith("other") else "--ioboundary"
    parts = (f"{boundary}\r\nContent-Type: text/plain\r\n\r\n{level}\r\n\r\n" for level in LEVELS)
    routes["monitor.cgi"] = stream("".join(parts).encode(), content_type)
    async with events_in_background(odd_driver(session, port)) as events:
        kinds = [(await events.next()).kind for _ in range(2)]
    assert kinds == [EventKind.ONLINE, EventKind.RING]


async def test_monitor_that_tells_nothing_is_down(
    session: aiohttp.ClientSession, odd_server: tuple[int, dict[str, Route]]
) -> None:
    port, routes = odd_server
    routes["monitor.cgi"] = stream(b"<html>Welcome</html>", "text/html")
    async with events_in_background(odd_driver(session, port, open_timeout=0.2)) as events:
        assert (await events.next()).kind is EventKind.OFFLINE


async def test_back_off_doubles_resets_and_caps(
    session: aiohttp.ClientSession,
    odd_server: tuple[int, dict[str, Route]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, routes = odd_server
    attempts = 0
    delays: list[float] = []

    class Enough(BaseException):
        """Ends the stream once enough pauses are seen (as cancelling would: no guard stops it)."""

    async def pause(delay: float) -> None:
        delays.append(delay)
        if len(delays) == 7:
            raise Enough

    async def monitor(request: web.Request) -> web.StreamResponse:
        nonlocal attempts
        attempts += 1
        if attempts != 4:
            return web.Response(status=503)
        # The fourth attempt gets one level, then the server hangs up.
        return web.Response(
            body=b"--ioboundary\r\n\r\ndoorbell:L\r\n\r\n",
            headers={"Content-Type": "multipart/x-mixed-replace; boundary=--ioboundary"},
        )

    monkeypatch.setattr(backoff_module, "sleep", pause)
    monkeypatch.setattr(backoff_module, "uniform", lambda low, high: 1.0)
    routes["monitor.cgi"] = monitor
    async with events_in_background(odd_driver(session, port, backoff_base=16)) as events:
        kinds = [(await events.next()).kind for _ in range(3)]
        assert kinds == [EventKind.OFFLINE, EventKind.ONLINE, EventKind.OFFLINE]
        with pytest.raises(Enough):
            await events.next()
    # Doubling up to the cap; a stream that told its levels resets the delay.
    assert delays == [16, 32, BACKOFF_MAX, 16, 32, BACKOFF_MAX, BACKOFF_MAX]


# Pure helpers.


@pytest.mark.parametrize(
    ("body", "reading"),
    [
        ("doorbell:H", ("doorbell", True)),
        (" MotionSensor : l ", ("motionsensor", False)),
        ("doorbell", None),
        ("doorbell:X", None),
        ("doorbell:", None),
    ],
)
def test_parse_input(body: str, reading: tuple[str, bool] | None) -> None:
    assert parse_input(body) == reading


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b'{"BHA": []}',
        b'{"BHA": {"RETURNCODE": "0", "VERSION": [{}]}}',
        b'{"BHA": {"RETURNCODE": "1", "VERSION": ["x"]}}',
        b'{"BHA": {"RETURNCODE": "1", "VERSION": ' + b"[" * 200_000,  # RecursionError
    ],
    ids=lambda body: body[:40].decode(errors="replace"),
)
def test_parse_info_of_something_else(body: bytes) -> None:
    assert parse_info(body) is None


def test_input_tracker() -> None:
    tracker = InputTracker()
    assert tracker.update("doorbell", True, initial=True) is None
    assert tracker.update("doorbell", False, initial=False) is None
    ring = tracker.update("doorbell", True, initial=False)
    assert ring is not None
    assert ring.kind is EventKind.RING
    assert tracker.update("doorbell", True, initial=False) is None
    assert tracker.update("relay", True, initial=False) is None
    assert tracker.update("motionsensor", False, initial=True) is None
    tracker.reset()
    motion = tracker.update("motionsensor", True, initial=True)
    assert motion is not None
    assert (motion.kind, motion.active) == (EventKind.MOTION, True)


def _info(version: dict[str, object]) -> str:
    """Return an info.cgi answer with one VERSION entry."""
    return json.dumps({"BHA": {"RETURNCODE": "1", "VERSION": [version]}})
