"""The DoorBird LAN-2-LAN driver: device info, snapshot, RTSP and the monitor stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import contextlib
from functools import partial
import json
import logging
import re
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import hdrs

from .backoff import Backoff
from .base import (
    REQUEST_TIMEOUT,
    CannotConnect,
    DeviceIdentity,
    DoorbellEvent,
    EventKind,
    InvalidAuth,
    StreamUrls,
    url_host,
)
from .http import MAX_ANSWER, MAX_JPEG, get_body
from .multipart import MultipartParser, boundary_from_content_type
from .snapshots import basic_authorization
from .streaming import open_stream, read_chunk
from .supervise import supervised

_LOGGER = logging.getLogger(__name__)

DEFAULT_RTSP_PORT = 554  # the LAN API has no way to ask for it
# Firmware repeats its inputs' state about every 20 s on an idle stream (homebridge-doorbird);
# some users report no repeats at all, so silence only ever costs a quiet reconnect.
STALL_TIMEOUT = 90.0

MONITOR = "monitor.cgi?ring=doorbell,motionsensor"
RTSP_PATH = "/mpeg/media.amp"
BOUNDARY = "--ioboundary"
_MAC_KEYS = ("PRIMARY_MAC_ADDR", "WIFI_MAC_ADDR")  # WIFI_ on older firmware
_MAC = re.compile(r"[0-9A-F]{12}")
_REFUSALS = {
    204: 'answered 204: the user lacks the "watch always" permission',
    423: "has locked the user out after repeated wrong passwords; it lifts the lock itself",
    509: "already serves the most monitor streams it allows (8)",
}


class _Refused(CannotConnect):
    """The device answered with a status that refuses the request."""

    def __init__(self, host: str, status: int) -> None:
        self.status = status
        super().__init__(f"{host} {_REFUSALS.get(status, f'answered HTTP {status}')}")


def parse_input(body: str) -> tuple[str, bool] | None:
    """Return the input and level (True for H) of a monitor part such as `doorbell:H`."""
    name, sep, level = body.partition(":")
    level = level.strip().upper()
    if not sep or level not in ("H", "L"):
        return None
    return name.strip().lower(), level == "H"


class InputTracker:
    """Turns the inputs' levels into events: one ring per press, motion on every change."""

    def __init__(self) -> None:
        """Know nothing of the inputs yet."""
        self._levels: dict[str, bool] = {}

    def reset(self) -> None:
        """Forget the levels: the device could not tell them for a while."""
        self._levels.clear()

    def update(self, name: str, high: bool, *, initial: bool) -> DoorbellEvent | None:
        """Record a level; `initial` marks the first one a new stream tells (no ring from it)."""
        before = self._levels.get(name)
        if name == "doorbell":
            self._levels[name] = high
            ring = high and before is False and not initial
            return DoorbellEvent(kind=EventKind.RING, code=name) if ring else None
        if name == "motionsensor":
            self._levels[name] = high
            if high != bool(before):
                return DoorbellEvent(kind=EventKind.MOTION, active=high, code=name)
        return None


class DoorBirdDoorbell:
    """A DoorBird door station reached over its LAN-2-LAN API."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        rtsp_port: int | None = None,
        backoff_base: float = 1.0,
        open_timeout: float = REQUEST_TIMEOUT,
        stall_timeout: float = STALL_TIMEOUT,
    ) -> None:
        """Describe the device; nothing is sent before the first call.

        `rtsp_port`: None for DoorBird's usual one, which its LAN API cannot tell.
        """
        self._session = session
        self._host = host
        self._base = f"http://{url_host(host)}:{port}/bha-api/"
        self._username = username
        self._password = password
        self._rtsp_port = DEFAULT_RTSP_PORT if rtsp_port is None else rtsp_port
        # The firmware takes about one new connection a second: never retry faster than that.
        self._backoff_base = backoff_base
        self._open_timeout = open_timeout
        self._stall_timeout = stall_timeout
        self._inputs = InputTracker()
        self._warned: int | None = None  # the refusal last logged, so that each is logged once

    async def probe(self) -> DeviceIdentity:
        """Return the device's identity; raise CannotConnect or InvalidAuth."""
        version = parse_info(await self._get("info.cgi"))
        if version is None:
            raise CannotConnect(f"{self._host} did not answer like a DoorBird")
        mac = next((m for key in _MAC_KEYS if (m := _mac_hex(version.get(key)))), None)
        if mac is None:
            raise CannotConnect(f"{self._host} did not tell its MAC address")
        firmware = str(version.get("FIRMWARE") or "")
        if build := version.get("BUILD_NUMBER"):
            firmware = f"{firmware} (build {build})".strip()
        return DeviceIdentity(
            manufacturer="DoorBird",
            model=str(version.get("DEVICE-TYPE") or "DoorBird"),
            serial=mac,
            firmware=firmware,
            mac=":".join(mac[i : i + 2] for i in range(0, 12, 2)).lower(),
            has_person=False,
        )

    async def stream_urls(self) -> StreamUrls:
        """Return the RTSP address; DoorBird offers one stream on every model, so sub is main."""
        credentials = f"{quote(self._username, safe='')}:{quote(self._password, safe='')}"
        main = f"rtsp://{credentials}@{url_host(self._host)}:{self._rtsp_port}{RTSP_PATH}"
        return StreamUrls(main=main, sub=main)

    async def snapshot(self) -> bytes:
        """Return a JPEG of the current picture."""
        image = await self._get("image.cgi", limit=MAX_JPEG)
        if not image.startswith(b"\xff\xd8"):
            raise CannotConnect(f"{self._host} sent a snapshot that is not a JPEG")
        return image

    def events(self) -> AsyncGenerator[DoorbellEvent]:
        """Yield events forever, reconnecting; ONLINE and OFFLINE mark the connection."""
        backoff = Backoff(self._backoff_base)
        return supervised(partial(self._events, backoff), host=self._host, backoff=backoff)

    async def _events(self, backoff: Backoff) -> AsyncGenerator[DoorbellEvent]:
        """Open, read and reopen the monitor stream.

        A stream is up once it has told the inputs' levels. When an up stream ends or falls
        silent, one quiet reconnect follows; OFFLINE comes only if that fails.
        """
        while True:
            healthy = False
            try:
                # InvalidAuth goes through: the owner has to enter new credentials.
                response = await self._open_monitor()
            except CannotConnect as err:
                self._log_refusal(err)
            else:
                async with contextlib.aclosing(self._watch(response)) as readings:
                    async for event in readings:
                        if not healthy:
                            healthy, self._warned = True, None
                            yield DoorbellEvent(kind=EventKind.ONLINE)
                        if event is not None:
                            yield event
            if healthy:
                backoff.reset()
            else:
                self._inputs.reset()
                yield DoorbellEvent(kind=EventKind.OFFLINE)
            await backoff.wait()

    async def _watch(
        self, response: aiohttp.ClientResponse
    ) -> AsyncGenerator[DoorbellEvent | None]:
        """Yield the event of every level the stream tells, None for those that change nothing."""
        try:
            content_type = response.headers.get(hdrs.CONTENT_TYPE)
            parser = MultipartParser(
                boundary_from_content_type(content_type, BOUNDARY), blank_line_ends_body=True
            )
            told: set[str] = set()  # inputs this stream has told: later parts are changes
            limit = self._open_timeout  # for the levels a new stream tells at once
            while chunk := await read_chunk(response, host=self._host, silence=limit):
                for body in parser.feed(chunk):
                    if (reading := parse_input(body)) is not None:
                        name, high = reading
                        yield self._inputs.update(name, high, initial=name not in told)
                        told.add(name)
                        limit = self._stall_timeout
        finally:
            response.close()

    def _log_refusal(self, err: CannotConnect) -> None:
        """Log why the stream cannot open: a refusal to act on once, the rest quietly."""
        if isinstance(err, _Refused) and err.status in _REFUSALS and err.status != self._warned:
            self._warned = err.status
            _LOGGER.warning("Cannot watch the events of %s: %s", self._host, err)
        else:
            _LOGGER.debug("Cannot watch the events of %s: %s", self._host, err)

    async def _open_monitor(self) -> aiohttp.ClientResponse:
        """Open the monitor stream; raise CannotConnect or InvalidAuth."""
        return await open_stream(
            self._session,
            self._base + MONITOR,
            host=self._host,
            within=self._open_timeout,
            check=self._check,
            headers=self._headers(),
        )

    async def _get(self, path: str, *, limit: int = MAX_ANSWER) -> bytes:
        """Return the body of `GET /bha-api/<path>`; raise CannotConnect or InvalidAuth."""
        return await get_body(
            self._session,
            self._base + path,
            name=self._host,
            check=self._check,
            limit=limit,
            headers=self._headers(),
        )

    def _headers(self) -> dict[str, str]:
        """Return the credentials every request carries: no challenge, no failure to count."""
        return {hdrs.AUTHORIZATION: basic_authorization(self._username, self._password)}

    def _check(self, response: aiohttp.ClientResponse) -> None:
        """Raise for an answer that is not a plain 200."""
        if response.status == 401:
            raise InvalidAuth(f"{self._host} refused the user name or password")
        if response.status != 200:
            raise _Refused(self._host, response.status)


def parse_info(body: bytes) -> dict[str, Any] | None:
    """Return the `VERSION` entry of an info.cgi answer, None if it is not one."""
    try:
        bha = json.loads(body)["BHA"]
        version = bha["VERSION"][0]
    except (ValueError, LookupError, TypeError, RecursionError):  # Recursion: nested too deep
        return None
    if str(bha.get("RETURNCODE")) != "1" or not isinstance(version, dict):
        return None
    return version


def _mac_hex(value: object) -> str | None:
    """Return a MAC address as 12 upper-case hex digits, None if it is not one."""
    if not isinstance(value, str):
        return None
    mac = re.sub(r"[:\-.\s]", "", value).upper()
    return mac if _MAC.fullmatch(mac) else None
