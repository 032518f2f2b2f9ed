"""What the network drivers do alike, tested once for all of them, each against its simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from typing import Any

import aiohttp
import pytest

from custom_components.local_doorbell.devices.base import (
    CannotConnect,
    DoorbellDevice,
    DoorbellEvent,
    EventKind,
    InvalidAuth,
)
from custom_components.local_doorbell.devices.dahua import DahuaDoorbell
from custom_components.local_doorbell.devices.doorbird import DoorBirdDoorbell
from custom_components.local_doorbell.devices.onvif import OnvifDoorbell
from tests.conftest import TEST_VIDEO
from tests.helpers.drivers import DRIVERS, online
from tests.helpers.events import Events, events_in_background, events_of, free_port, wait_for
from tests.helpers.video import first_picture
from virtual_doorbell import VirtualDoorbell

CLASSES = [DahuaDoorbell, DoorBirdDoorbell, OnvifDoorbell]


def driver(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, **options: Any
) -> DoorbellDevice:
    """Return the test-speed driver of the simulated model."""
    return DRIVERS[doorbell.state.model.name].make(session, doorbell, **options)


@contextlib.asynccontextmanager
async def online_events(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> AsyncIterator[Events]:
    """Read the driver's events in the background, as the runtime does, once it is online."""
    async with events_in_background(driver(session, doorbell)) as events:
        await online(events, doorbell)
        yield events


async def rings(events: Events, doorbell: VirtualDoorbell) -> None:
    """Press, and check that the press is the next event, one ring."""
    doorbell.press()
    assert [event.kind for event in await events.until(EventKind.RING)] == [EventKind.RING]


@pytest.mark.parametrize("doorbell_model", list(DRIVERS))
async def test_wrong_password(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    device = driver(session, doorbell, password="wrong")
    with pytest.raises(InvalidAuth):
        await device.probe()
    with pytest.raises(InvalidAuth):
        await anext(device.events())


@pytest.mark.parametrize("driver_class", CLASSES)
async def test_nothing_listening(
    socket_enabled: None, session: aiohttp.ClientSession, driver_class: Callable[..., Any]
) -> None:
    device: DoorbellDevice = driver_class(
        session, "127.0.0.1", free_port(), "admin", "x", backoff_base=0.05
    )
    with pytest.raises(CannotConnect):
        await device.probe()
    async with events_of(device) as events:
        assert (await events.next()).kind is EventKind.OFFLINE
        # Retries go on quietly: no second OFFLINE while the device stays away.
        with pytest.raises(TimeoutError):
            await events.next(limit=0.5)


@pytest.mark.parametrize("driver_class", [DahuaDoorbell, DoorBirdDoorbell])
async def test_user_name_with_colon(
    session: aiohttp.ClientSession, driver_class: Callable[..., Any]
) -> None:
    device: DoorbellDevice = driver_class(session, "127.0.0.1", 80, "ad:min", "secret")
    with pytest.raises(InvalidAuth):
        await device.snapshot()


@pytest.mark.parametrize("doorbell_model", list(DRIVERS))
async def test_snapshot(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    image = await driver(session, doorbell).snapshot()
    assert image.startswith(b"\xff\xd8")
    assert image.endswith(b"\xff\xd9")


@pytest.mark.parametrize("model", list(DRIVERS))
async def test_stream_urls_encode_credentials(
    socket_enabled: None, session: aiohttp.ClientSession, model: str
) -> None:
    doorbell = VirtualDoorbell(
        username="ad min", password="p@ss/w:rd?#%", model=model, video=TEST_VIDEO
    )
    await doorbell.start()
    try:
        device = driver(session, doorbell)
        urls = await device.stream_urls()
        # The device takes the credentials as they were typed.
        assert await asyncio.to_thread(first_picture, urls.main) == (320, 240)
        assert (await device.snapshot()).startswith(b"\xff\xd8")
    finally:
        await doorbell.stop()
    credentials = "ad%20min:p%40ss%2Fw%3Ard%3F%23%25"
    assert urls.main.startswith(f"rtsp://{credentials}@127.0.0.1:{doorbell.rtsp_port}/")


@pytest.mark.parametrize("doorbell_model", list(DRIVERS))
async def test_cancel_closes_the_stream(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    seen: list[DoorbellEvent] = []

    async def consume() -> None:
        async for event in driver(session, doorbell).events():
            seen.append(event)

    task = asyncio.create_task(consume())
    await wait_for(lambda: bool(seen) and doorbell.state.counters.event_clients == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [event.kind for event in seen] == [EventKind.ONLINE]
    # The device notices the closed socket when it next writes (Dahua: its heartbeat).
    await wait_for(lambda: doorbell.state.counters.event_clients == 0)


@pytest.mark.parametrize("doorbell_model", list(DRIVERS))
async def test_reboot(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    async with online_events(session, doorbell) as events:
        await doorbell.fault("reboot", 1)
        assert (await events.next()).kind is EventKind.OFFLINE
        # Several attempts fail while the device boots; they report nothing more.
        await online(events, doorbell, streams=2)
        assert not doorbell.state.faults.rebooting
        await rings(events, doorbell)


@pytest.mark.parametrize("doorbell_model", list(DRIVERS))
async def test_dropped_stream_reconnects(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    counters = doorbell.state.counters
    async with online_events(session, doorbell) as events:
        await doorbell.fault("drop_events")
        if DRIVERS[doorbell.state.model.name].reconnects_quietly:
            # Neither OFFLINE nor ONLINE: the stream came straight back, the ring is next.
            await wait_for(lambda: counters.event_clients_total == 2)
        else:
            assert (await events.next()).kind is EventKind.OFFLINE
            await online(events, doorbell, streams=2)
        await wait_for(lambda: counters.event_clients == 1)
        await rings(events, doorbell)


@pytest.mark.parametrize("doorbell_model", list(DRIVERS))
async def test_refused_credentials_end_the_stream(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    async with online_events(session, doorbell) as events:
        await doorbell.fault("refuse_auth")
        await doorbell.fault("drop_events")
        seen: list[EventKind] = []

        async def read_to_the_end() -> None:
            while True:
                seen.append((await events.next()).kind)

        # The owner has to act: the stream ends, not to be retried with these credentials.
        with pytest.raises(InvalidAuth):
            await read_to_the_end()
    # DoorBird reconnects quietly, and an ONVIF pull is refused before the drop is seen.
    assert seen in ([], [EventKind.OFFLINE])


# Garbled parts, and JSON or XML nested past what a parser takes (Python 3.13's raise
# RecursionError on it, 3.14's json parses it); DoorBird's monitor carries neither.
MALFORMED = [(model, "garbage") for model in DRIVERS] + [
    ("AD410", "deep_nesting"),
    ("ReolinkDoorbell", "deep_nesting"),
]


@pytest.mark.parametrize(("doorbell_model", "fault"), MALFORMED)
async def test_malformed_events_are_survived(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, fault: str
) -> None:
    async with online_events(session, doorbell) as events:
        await doorbell.fault(fault)
        await doorbell.fault(fault)
        # Nothing malformed gives an event, not even a ring, nor costs the stream.
        await rings(events, doorbell)
    assert doorbell.state.counters.event_clients_total == 1
