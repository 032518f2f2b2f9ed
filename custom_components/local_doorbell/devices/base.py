"""What every doorbell driver offers: device info, typed events, streams and the cloud switch."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

REQUEST_TIMEOUT = 10.0  # seconds for one request to a device
DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}


def url_host(host: str) -> str:
    """Return a host as it goes into a URL: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def host_and_port(url: str) -> tuple[str, int]:
    """Return the host (no brackets) and port a URL names; raise ValueError if it names none."""
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in DEFAULT_PORTS:
        raise ValueError("the URL names no host")
    return parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]


class EventKind(StrEnum):
    """What happened at the door, or to the connection."""

    RING = "ring"
    MOTION = "motion"
    PERSON = "person"
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True, kw_only=True)
class DoorbellEvent:
    """One event from the device; `active` is False when motion or a person ends."""

    kind: EventKind
    active: bool = True
    code: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceIdentity:
    """Who the device says it is; the model never repeats the maker ("DoorBird D101")."""

    manufacturer: str
    model: str
    serial: str
    firmware: str
    mac: str | None = None
    has_motion: bool = True
    has_person: bool = False

    def __post_init__(self) -> None:
        """Name the maker once, so Home Assistant shows "D101 by DoorBird" for every driver."""
        maker = self.manufacturer.casefold()
        if self.model.casefold().startswith(f"{maker} ") and len(self.model) > len(maker) + 1:
            object.__setattr__(self, "model", self.model[len(maker) + 1 :].strip())


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamUrls:
    """RTSP addresses of the main and sub streams, with credentials."""

    main: str
    sub: str


class DoorbellError(Exception):
    """Base of every driver error."""


class CannotConnect(DoorbellError):
    """The device did not answer, or answered something we cannot use."""


class UnsupportedStream(CannotConnect):
    """The device offers its video at an address that is not RTSP: it is never opened."""

    def __init__(self, host: str, scheme: str) -> None:
        """Name the scheme the device offered."""
        super().__init__(f"{host} offers its stream over {scheme}, not RTSP")
        self.scheme = scheme


class InvalidAuth(DoorbellError):
    """The device refused the credentials."""


class DoorbellDevice(Protocol):
    """The interface every driver implements."""

    async def probe(self) -> DeviceIdentity:
        """Return the device's identity; raise CannotConnect or InvalidAuth."""
        ...

    def events(self) -> AsyncGenerator[DoorbellEvent]:
        """Yield events forever, reconnecting; ONLINE and OFFLINE mark the connection."""
        ...

    async def stream_urls(self) -> StreamUrls:
        """Return the RTSP addresses, as the device reports its RTSP port."""
        ...

    async def snapshot(self) -> bytes:
        """Return a JPEG of the current picture."""
        ...


@runtime_checkable
class CloudSwitch(Protocol):
    """What a driver adds when the device's own cloud can be read and turned off locally."""

    async def cloud_enabled(self) -> bool:
        """Tell whether the device's own cloud (P2P) service is on."""
        ...

    async def disable_cloud(self) -> None:
        """Turn the device's own cloud (P2P) service off."""
        ...
