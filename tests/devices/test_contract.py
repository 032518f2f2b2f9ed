"""What the network drivers do alike, tested once for all of them, each against its simulator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
from tests.devices import test_dahua, test_doorbird, test_onvif
from tests.helpers.events import events_of, free_port, wait_for
from virtual_doorbell import VirtualDoorbell

type Factory = Callable[..., DoorbellDevice]

# A model of each protocol, and the test-speed driver for it.
DRIVERS: dict[str, Factory] = {
    "AD410": test_dahua.driver,
    "D101": test_doorbird.driver,
    "ReolinkDoorbell": test_onvif.driver,
}
CLASSES = [DahuaDoorbell, DoorBirdDoorbell, OnvifDoorbell]


@pytest.mark.parametrize("doorbell_model", list(DRIVERS))
async def test_wrong_password(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, doorbell_model: str
) -> None:
    device = DRIVERS[doorbell_model](session, doorbell, password="wrong")
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


@pytest.mark.parametrize("doorbell_model", ["AD410", "D101"])  # ONVIF: test_cancel_unsubscribes
async def test_cancel_closes_the_stream(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, doorbell_model: str
) -> None:
    seen: list[DoorbellEvent] = []

    async def consume() -> None:
        async for event in DRIVERS[doorbell_model](session, doorbell).events():
            seen.append(event)

    task = asyncio.create_task(consume())
    await wait_for(lambda: bool(seen) and doorbell.state.counters.event_clients == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [event.kind for event in seen] == [EventKind.ONLINE]
    # The device notices the closed socket when it next writes (Dahua: its heartbeat).
    await wait_for(lambda: doorbell.state.counters.event_clients == 0)
