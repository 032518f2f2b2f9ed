"""The Dahua/Amcrest CGI driver: device info, snapshot, RTSP, cloud switch and the event stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from enum import StrEnum
from functools import partial
import logging
from urllib.parse import quote

import aiohttp
from aiohttp import hdrs
from yarl import URL

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
from .dahua_events import RING_DEBOUNCE, EventMapper
from .http import MAX_ANSWER, MAX_JPEG, get_body
from .multipart import MultipartParser, boundary_from_content_type
from .streaming import open_stream, read_chunk
from .supervise import supervised

_LOGGER = logging.getLogger(__name__)

DEFAULT_RTSP_PORT = 554


class Family(StrEnum):
    """Firmware families whose event codes and abilities differ."""

    AD110 = "ad110"
    AD410 = "ad410"
    VTO = "vto"


# Longest prefixes first: the first match wins.
_FAMILIES: tuple[tuple[str, Family], ...] = (
    ("AD110", Family.AD110),
    ("AD410", Family.AD410),
    ("DB2X", Family.AD410),
    ("DB6", Family.AD410),
    ("DH-VTO", Family.VTO),
    ("VTO", Family.VTO),
    ("DHI", Family.VTO),
    ("AD", Family.AD410),
)


def family_for(model: str) -> Family | None:
    """Return the family a model name belongs to, if we know it."""
    model = model.strip().upper()
    return next((family for prefix, family in _FAMILIES if model.startswith(prefix)), None)


def manufacturer_for(model: str) -> str:
    """Return who sells a model: Amcrest brands Dahua's AD and ASH doorbells."""
    return "Amcrest" if model.strip().upper().startswith(("AD", "ASH")) else "Dahua"


def parse_key_values(text: str) -> dict[str, str]:
    """Return the `key=value` lines of a CGI answer, ignoring anything else."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and (key := key.strip()):
            values[key] = value.strip()
    return values


class _Refused(CannotConnect):
    """The device answered, but with a 4xx: it does not know this request."""


class DahuaDoorbell:
    """A Dahua, Amcrest or compatible doorbell reached over its HTTP CGI API."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        heartbeat: int = 5,
        backoff_base: float = 1.0,
        stall_timeout: float | None = None,
        ring_debounce: float = RING_DEBOUNCE,
        rtsp_port: int | None = None,
    ) -> None:
        """Describe the device; nothing is sent before the first call."""
        if not 1 <= heartbeat <= 60:
            raise ValueError("heartbeat must be 1 to 60 seconds")
        self._session = session
        self._host = host
        self._base = f"http://{url_host(host)}:{port}"
        self._username = username
        self._password = password
        self._heartbeat = heartbeat
        self._backoff_base = backoff_base
        # Firmware sends a heartbeat every `heartbeat` seconds; two missed ones mean a dead link.
        self._stall_timeout = 2 * heartbeat + 5 if stall_timeout is None else stall_timeout
        self._mapper = EventMapper(ring_debounce=ring_debounce)
        self._digest: aiohttp.DigestAuthMiddleware | None = None
        self._rtsp_port = rtsp_port  # None: ask the device

    async def probe(self) -> DeviceIdentity:
        """Return the device's identity; raise CannotConnect or InvalidAuth."""
        model = await self._value("magicBox.cgi?action=getDeviceType", "type")
        serial = await self._value("magicBox.cgi?action=getSerialNo", "sn")
        if not model or not serial:
            info = await self._optional_values("magicBox.cgi?action=getSystemInfo")
            model = model or info.get("deviceType")
            serial = serial or info.get("serialNumber")
        if not model or not serial:
            raise CannotConnect(f"{self._host} did not tell its model and serial number")
        firmware = await self._value("magicBox.cgi?action=getSoftwareVersion", "version")
        return DeviceIdentity(
            manufacturer=manufacturer_for(model),
            model=model,
            serial=serial,
            firmware=firmware or "",
            mac=await self._mac(),
            has_person=family_for(model) is Family.AD410,
        )

    async def stream_urls(self) -> StreamUrls:
        """Return the RTSP addresses, as the device reports its RTSP port."""
        if self._rtsp_port is None:
            values = await self._optional_values("configManager.cgi?action=getConfig&name=RTSP")
            port = values.get("table.RTSP.Port", "")
            # isdecimal: "²" is a digit that int() refuses; five digits bound int()'s work.
            valid = port.isdecimal() and len(port) <= 5 and 0 < int(port) < 65536
            self._rtsp_port = int(port) if valid else DEFAULT_RTSP_PORT
        credentials = f"{quote(self._username, safe='')}:{quote(self._password, safe='')}"
        base = f"rtsp://{credentials}@{url_host(self._host)}:{self._rtsp_port}"
        path = "/cam/realmonitor?channel=1&subtype="
        return StreamUrls(main=f"{base}{path}0", sub=f"{base}{path}1")

    async def snapshot(self) -> bytes:
        """Return a JPEG of the current picture."""
        image = await self._get("snapshot.cgi?channel=1", limit=MAX_JPEG)
        if not image.startswith(b"\xff\xd8"):
            raise CannotConnect(f"{self._host} sent a snapshot that is not a JPEG")
        return image

    async def cloud_enabled(self) -> bool:
        """Tell whether the device's own cloud (P2P) service is on."""
        values = await self._values("configManager.cgi?action=getConfig&name=T2UServer")
        enabled = values.get("table.T2UServer.Enable", "").lower()
        if enabled not in ("true", "false"):
            raise CannotConnect(f"{self._host} did not tell whether its cloud service is on")
        return enabled == "true"

    async def disable_cloud(self) -> None:
        """Turn the device's own cloud (P2P) service off."""
        answer = await self._get("configManager.cgi?action=setConfig&T2UServer.Enable=false")
        if answer.strip() != b"OK":
            raise CannotConnect(f"{self._host} did not turn its cloud service off")

    def events(self) -> AsyncGenerator[DoorbellEvent]:
        """Yield events forever, reconnecting; ONLINE and OFFLINE mark the connection."""
        backoff = Backoff(self._backoff_base)
        return supervised(partial(self._events, backoff), host=self._host, backoff=backoff)

    async def _events(self, backoff: Backoff) -> AsyncGenerator[DoorbellEvent]:
        """Attach, read and reattach: ONLINE at the first part, OFFLINE when the stream ends.

        The 200 alone proves nothing: a stalled device answers it, then stays silent.
        """
        while True:
            try:
                # InvalidAuth goes through: the owner has to enter new credentials.
                response = await self._attach()
            except CannotConnect as err:
                _LOGGER.debug("Cannot attach to the events of %s: %s", self._host, err)
            else:
                healthy = False
                try:
                    parser = MultipartParser(
                        boundary_from_content_type(response.headers.get(hdrs.CONTENT_TYPE))
                    )
                    while chunk := await read_chunk(
                        response, host=self._host, silence=self._stall_timeout
                    ):
                        for body in parser.feed(chunk):
                            if not healthy:
                                healthy = True
                                yield DoorbellEvent(kind=EventKind.ONLINE)
                            if (event := self._mapper.map(body)) is not None:
                                yield event
                finally:
                    response.close()
                if healthy:
                    backoff.reset()
            yield DoorbellEvent(kind=EventKind.OFFLINE)
            await backoff.wait()

    async def _attach(self) -> aiohttp.ClientResponse:
        """Open the event stream; raise CannotConnect or InvalidAuth."""
        path = f"eventManager.cgi?action=attach&codes=[All]&heartbeat={self._heartbeat}"
        return await open_stream(
            self._session,
            self._url(path),
            host=self._host,
            within=REQUEST_TIMEOUT,
            check=self._check,
            middlewares=self._middlewares(),
        )

    async def _mac(self) -> str | None:
        """Return the MAC address of the default interface, if the device tells it."""
        values = await self._optional_values("configManager.cgi?action=getConfig&name=Network")
        default = values.get("table.Network.DefaultInterface")
        mac = values.get(f"table.Network.{default}.PhysicalAddress") or next(
            (v for k, v in values.items() if k.endswith(".PhysicalAddress") and v), None
        )
        return mac.lower() if mac else None

    async def _value(self, path: str, key: str) -> str | None:
        """Return one value of a CGI answer, None when the device lacks it."""
        return (await self._optional_values(path)).get(key) or None

    async def _optional_values(self, path: str) -> dict[str, str]:
        """Return the `key=value` lines of a CGI answer, empty when the device refuses it."""
        try:
            return await self._values(path)
        except _Refused:
            return {}

    async def _values(self, path: str) -> dict[str, str]:
        """Return the `key=value` lines of a CGI answer."""
        return parse_key_values((await self._get(path)).decode("utf-8", errors="replace"))

    async def _get(self, path: str, *, limit: int = MAX_ANSWER) -> bytes:
        """Return the body of `GET /cgi-bin/<path>`; raise CannotConnect or InvalidAuth."""
        return await get_body(
            self._session,
            self._url(path),
            name=self._host,
            check=self._check,
            limit=limit,
            middlewares=self._middlewares(),
        )

    def _url(self, path: str) -> URL:
        """Return the URL of a CGI path, sent as written: some firmware wants `[All]` raw."""
        return URL(f"{self._base}/cgi-bin/{path}", encoded=True)

    def _middlewares(self) -> tuple[aiohttp.DigestAuthMiddleware]:
        """Return the digest authentication every request goes through."""
        if self._digest is None:
            try:
                self._digest = aiohttp.DigestAuthMiddleware(self._username, self._password)
            except ValueError as err:  # a ':' in the user name, which digest cannot carry
                raise InvalidAuth(str(err)) from err
        return (self._digest,)

    def _check(self, response: aiohttp.ClientResponse) -> None:
        """Raise for an answer that is not a plain 200."""
        status = response.status
        if status == 401:
            # The digest middleware has already answered the challenge once.
            raise InvalidAuth(f"{self._host} refused the user name or password")
        if 400 <= status < 500:
            raise _Refused(f"{self._host} answered HTTP {status}")
        if status != 200:
            raise CannotConnect(f"{self._host} answered HTTP {status}")
