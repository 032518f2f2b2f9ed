"""The network drivers at test speed against the virtual doorbell, and how each is seen online."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from aiohttp import ClientSession as Session

from custom_components.local_doorbell.devices.base import DoorbellDevice, DoorbellEvent, EventKind
from custom_components.local_doorbell.devices.dahua import DahuaDoorbell
from custom_components.local_doorbell.devices.doorbird import DoorBirdDoorbell
from custom_components.local_doorbell.devices.onvif import OnvifDoorbell
from tests.helpers.events import WAIT, wait_for
from virtual_doorbell import VirtualDoorbell
from virtual_doorbell.doorbird import DoorBirdPersonality
from virtual_doorbell.onvif import OnvifPersonality


def bird(doorbell: VirtualDoorbell) -> DoorBirdPersonality:
    """Return the device's DoorBird personality, for its settings and levels."""
    assert isinstance(doorbell.personality, DoorBirdPersonality)
    return doorbell.personality


def onvif(doorbell: VirtualDoorbell) -> OnvifPersonality:
    """Return the device's ONVIF personality, for its settings and subscriptions."""
    return cast("OnvifPersonality", doorbell.personality)


def _address(doorbell: VirtualDoorbell, options: dict[str, Any]) -> tuple[str, int, str, str]:
    """Return the virtual doorbell's address and credentials; a `password` option replaces its."""
    password = options.pop("password", doorbell.password)
    return doorbell.host, doorbell.http_port, doorbell.username, password


def dahua_driver(session: Session, doorbell: VirtualDoorbell, **options: Any) -> DahuaDoorbell:
    """Return a Dahua driver for the virtual doorbell, with test-speed timings."""
    address = _address(doorbell, options)
    return DahuaDoorbell(session, *address, **{"heartbeat": 1, "backoff_base": 0.05, **options})


def doorbird_driver(
    session: Session, doorbell: VirtualDoorbell, **options: Any
) -> DoorBirdDoorbell:
    """Return a DoorBird driver for the virtual doorbell, with test-speed timings."""
    address = _address(doorbell, options)
    options = {"rtsp_port": doorbell.rtsp_port, "backoff_base": 0.05, **options}
    return DoorBirdDoorbell(session, *address, **options)


def onvif_driver(session: Session, doorbell: VirtualDoorbell, **options: Any) -> OnvifDoorbell:
    """Return an ONVIF driver for the virtual doorbell, test-speed timings (the device's too)."""
    onvif(doorbell).visitor_hold = 0.05
    address = _address(doorbell, options)
    options = {"backoff_base": 0.05, "pull_timeout": 1, "request_timeout": 2.0, **options}
    return OnvifDoorbell(session, *address, **options)


@dataclass(frozen=True, slots=True)
class Driver:
    """What the contract tests need to know of a driver, beyond what they test alike."""

    make: Callable[..., DoorbellDevice]
    # DoorBird opens a dropped monitor stream again at once, reporting nothing; the others
    # report OFFLINE, then ONLINE on a new stream.
    reconnects_quietly: bool = False


# A model of each protocol, and its driver.
DRIVERS: dict[str, Driver] = {
    "AD410": Driver(dahua_driver),
    "D101": Driver(doorbird_driver, reconnects_quietly=True),
    "ReolinkDoorbell": Driver(onvif_driver),
}


class EventReader(Protocol):
    """Reads a driver's events with a time limit on every wait."""

    async def next(self, limit: float = WAIT) -> DoorbellEvent:
        """Return the next event."""
        ...


async def online(events: EventReader, doorbell: VirtualDoorbell, streams: int = 1) -> None:
    """Wait for ONLINE, and for the device to have counted the driver's `streams`-th stream.

    The event stream is the driver's: Dahua's attach, DoorBird's monitor, ONVIF's subscription.
    A Dahua device sends its headers (ONLINE) before it counts the client, hence the wait.
    """
    assert (await events.next()).kind is EventKind.ONLINE
    await wait_for(lambda: doorbell.state.counters.event_clients_total >= streams)


async def starts_and_stops(
    events: EventReader, doorbell: VirtualDoorbell, kind: EventKind = EventKind.MOTION
) -> None:
    """Start and stop motion (or a person) and check both are the next events.

    Motion so serves as a marker: what the device sent before it has been read by then.
    """
    switch = doorbell.person if kind is EventKind.PERSON else doorbell.motion
    switch(True)
    switch(False)
    seen = [await events.next(), await events.next()]
    assert [(event.kind, event.active) for event in seen] == [(kind, True), (kind, False)]
