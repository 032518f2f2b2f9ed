"""The ONVIF driver (Reolink and other ONVIF doorbells): identity, streams, snapshot, PullPoint.

SOAP goes through onvif-zeep-async's services and WSDLs, but over the session we are given:
each service gets a transport on that session (the library would open its own), redirects are
not followed, and every address the device names is moved to the configured host first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
import logging
import math
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import onvif
from onvif.client import AsyncTransportProtocolErrorHandler, ONVIFService
from onvif.definition import SERVICES
from onvif.util import is_auth_error, normalize_url, stringify_onvif_error
from yarl import URL
from zeep.exceptions import Error as ZeepError, Fault

from .backoff import Backoff
from .base import (
    REQUEST_TIMEOUT,
    CannotConnect,
    DeviceIdentity,
    DoorbellEvent,
    EventKind,
    InvalidAuth,
    StreamUrls,
    UnsupportedStream,
    url_host,
)
from .http import describe
from .onvif_events import PERSON_TOPICS, MessageMapper
from .onvif_transport import SoapSession
from .snapshots import fetch_jpeg
from .supervise import supervised

_LOGGER = logging.getLogger(__name__)

WSDL_DIR = Path(onvif.__file__).parent / "wsdl"  # bundled: no WSDL is ever fetched
MESSAGE_LIMIT = 100
RENEW_SHARE = 0.5  # renew when half of the granted lifetime has passed
UNSUBSCRIBE_TIMEOUT = 2.0  # a courtesy: an unanswered subscription expires on its own
PULL_COOLDOWN = 1.0  # after an empty answer that came early: some devices ignore Timeout
_TIMEOUT = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
_STREAM_SETUP = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
HTTP_SCHEMES = ("http", "https")  # services and snapshots: aiohttp fetches them
# Streams go to FFmpeg, which would follow http:// playlists anywhere, or listen on udp://.
STREAM_SCHEMES = ("rtsp", "rtsps")


class _Refused(CannotConnect):
    """The device answered with a SOAP fault."""


class _Malformed(CannotConnect):
    """The device answered something that is not the SOAP it should be."""


@dataclass(slots=True)
class _Subscription:
    """A PullPoint subscription: where to pull, where to renew, when to renew."""

    pullpoint: Any
    manager: Any
    renew_at: float  # event-loop time
    malformed: bool = False  # the last answer was not SOAP


@dataclass(frozen=True, slots=True)
class _Media:
    """What the media service tells, at the configured host."""

    streams: tuple[str, ...]  # rtsp URLs without credentials
    snapshot: str | None


def clock_offset(answer: Any) -> timedelta | None:
    """Return how far the device's clock is ahead of ours, from GetSystemDateAndTime."""
    try:
        utc = answer.UTCDateTime
        moment = datetime(
            utc.Date.Year,
            utc.Date.Month,
            utc.Date.Day,
            utc.Time.Hour,
            utc.Time.Minute,
            utc.Time.Second,
            tzinfo=UTC,
        )
    except (AttributeError, TypeError, ValueError):
        return None
    return moment - datetime.now(UTC)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class OnvifDoorbell:
    """A Reolink or other ONVIF doorbell: device, media and event services over SOAP."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        backoff_base: float = 1.0,
        pull_timeout: int = 60,
        subscription_time: int = 600,
        request_timeout: float = REQUEST_TIMEOUT,
        rtsp_port: int | None = None,
    ) -> None:
        """Describe the device; nothing is sent before the first call.

        `pull_timeout` is how long one PullMessages may wait for events (whole seconds), and
        `subscription_time` the lifetime asked for a subscription, renewed halfway through.
        `rtsp_port` replaces the port of the stream URIs (None: the port the device names).
        """
        if pull_timeout < 1 or subscription_time < 2:
            raise ValueError("pull_timeout must be 1 s or more, subscription_time 2 s or more")
        self._soap = SoapSession(session)
        self._http = session
        self._host = host
        self._device_url = f"http://{url_host(host)}:{port}/onvif/device_service"
        self._username = username
        self._password = password
        self._backoff_base = backoff_base
        self._pull_timeout = pull_timeout
        self._termination = f"PT{subscription_time}S"
        self._subscription_time = float(subscription_time)
        self._request_timeout = request_timeout
        self._rtsp_port = rtsp_port
        self._dt_diff: timedelta | None = None
        self._media: _Media | None = None
        self._mapper = MessageMapper()

    async def probe(self) -> DeviceIdentity:
        """Return the device's identity; raise CannotConnect or InvalidAuth."""
        await self._sync_clock()
        async with self._service("devicemgmt", self._device_url) as device:
            info = await self._call(device, "GetDeviceInformation")
            mac = await self._mac(device)
        manufacturer = _text(getattr(info, "Manufacturer", None)) or "ONVIF"
        model = _text(getattr(info, "Model", None))
        serial = _text(getattr(info, "SerialNumber", None)) or mac
        if not model or not serial:
            raise CannotConnect(f"{self._host} did not tell its model and serial number")
        return DeviceIdentity(
            manufacturer=manufacturer,
            model=model,
            serial=serial,
            firmware=_text(getattr(info, "FirmwareVersion", None)),
            mac=mac,
            has_person=manufacturer.lower() == "reolink" or await self._advertises_people(),
        )

    async def stream_urls(self) -> StreamUrls:
        """Return the RTSP addresses of the first two profiles, with credentials."""
        streams = (await self._media_uris()).streams
        credentials = f"{quote(self._username, safe='')}:{quote(self._password, safe='')}@"
        main, sub = (
            self._rebase(url, credentials, self._rtsp_port, stream=True)
            for url in (streams[0], streams[-1])
        )
        return StreamUrls(main=main, sub=sub)

    async def snapshot(self) -> bytes:
        """Return a JPEG from the snapshot URI (digest, or basic where the device asks for it)."""
        url = (await self._media_uris()).snapshot
        if url is None:
            raise CannotConnect(f"{self._host} offers no snapshot")
        return await fetch_jpeg(
            self._http,
            URL(url, encoded=True),
            name=self._host,
            username=self._username,
            password=self._password,
        )

    def events(self) -> AsyncGenerator[DoorbellEvent]:
        """Yield events forever, resubscribing; ONLINE and OFFLINE mark the subscription."""
        backoff = Backoff(self._backoff_base)
        return supervised(partial(self._events, backoff), host=self._host, backoff=backoff)

    async def _events(self, backoff: Backoff) -> AsyncGenerator[DoorbellEvent]:
        """Subscribe, pull and resubscribe: ONLINE once subscribed, OFFLINE when it is lost."""
        while True:
            healthy = False
            try:
                # InvalidAuth goes through: the owner has to enter new credentials.
                async with self._subscribed() as subscription:
                    yield DoorbellEvent(kind=EventKind.ONLINE)
                    while True:
                        for event in await self._pull(subscription):
                            yield event
                        healthy = True
            except CannotConnect as err:
                _LOGGER.debug("No events from %s: %s", self._host, err)
            if healthy:
                backoff.reset()
            yield DoorbellEvent(kind=EventKind.OFFLINE)
            await backoff.wait()

    @contextlib.asynccontextmanager
    async def _subscribed(self) -> AsyncIterator[_Subscription]:
        """Create a PullPoint subscription; unsubscribe when done with it."""
        await self._sync_clock()
        async with self._service("events", await self._xaddr("Events")) as events:
            answer = await self._call(
                events, "CreatePullPointSubscription", {"InitialTerminationTime": self._termination}
            )
        try:
            address = self._rebase(answer.SubscriptionReference.Address._value_1)
        except AttributeError as err:
            raise _Malformed(f"{self._host} named no subscription address") from err
        async with (
            self._service("pullpoint", address) as pullpoint,
            self._service("subscription", address) as manager,
        ):
            try:
                yield _Subscription(pullpoint, manager, self._renew_at(answer))
            finally:
                with contextlib.suppress(CannotConnect, InvalidAuth):
                    await self._call(manager, "Unsubscribe", seconds=UNSUBSCRIBE_TIMEOUT)

    async def _pull(self, subscription: _Subscription) -> list[DoorbellEvent]:
        """Renew when due, then pull once; one malformed answer in a row is forgiven."""
        loop = asyncio.get_running_loop()
        if loop.time() >= subscription.renew_at:
            answer = await self._call(
                subscription.manager, "Renew", {"TerminationTime": self._termination}
            )
            subscription.renew_at = self._renew_at(answer)
        # Come back in time for the next renewal.
        wait = max(1, min(self._pull_timeout, math.ceil(subscription.renew_at - loop.time())))
        started = loop.time()
        try:
            answer = await self._call(
                subscription.pullpoint,
                "PullMessages",
                {"Timeout": timedelta(seconds=wait), "MessageLimit": MESSAGE_LIMIT},
                seconds=wait + self._request_timeout,
            )
        except _Malformed:
            if subscription.malformed:
                raise
            subscription.malformed = True
            _LOGGER.debug("Ignoring a malformed answer of %s", self._host)
            return []
        subscription.malformed = False
        messages = getattr(answer, "NotificationMessage", None) or []
        if not messages and loop.time() - started < wait / 2:
            await asyncio.sleep(PULL_COOLDOWN)
        return [event for message in messages if (event := self._mapper.map(message))]

    def _renew_at(self, answer: Any) -> float:
        """Return when to renew, from the lifetime the device granted (on its own clock)."""
        lifetime: float
        try:
            lifetime = (answer.TerminationTime - answer.CurrentTime).total_seconds()
        except (AttributeError, TypeError, ValueError):
            # ValueError: an offset such as +99:00, which datetime refuses once it is used.
            lifetime = self._subscription_time
        return asyncio.get_running_loop().time() + max(lifetime * RENEW_SHARE, 1.0)

    async def _media_uris(self) -> _Media:
        """Return (once, then from memory) the stream and snapshot URIs of the first profiles."""
        if self._media is None:
            await self._sync_clock()
            async with self._service("media", await self._xaddr("Media")) as media:
                profiles = await self._call(media, "GetProfiles")
                tokens = [profile.token for profile in profiles or []][:2]
                if not tokens:
                    raise CannotConnect(f"{self._host} has no media profile")
                streams = []
                for token in tokens:
                    setup = {"StreamSetup": _STREAM_SETUP, "ProfileToken": token}
                    answer = await self._call(media, "GetStreamUri", setup)
                    # An empty answer names no Uri: _rebase refuses the None.
                    uri = getattr(answer, "Uri", None)
                    streams.append(self._rebase(uri, stream=True))
                try:
                    answer = await self._call(media, "GetSnapshotUri", {"ProfileToken": tokens[0]})
                    snapshot: str | None = self._rebase(getattr(answer, "Uri", None))
                except (_Refused, _Malformed):  # the snapshot is optional; the streams are not
                    snapshot = None
            self._media = _Media(tuple(streams), snapshot)
        return self._media

    async def _advertises_people(self) -> bool:
        """Tell whether GetEventProperties lists a people-detection topic."""
        try:
            async with self._service("events", await self._xaddr("Events")) as events:
                properties = await self._call(events, "GetEventProperties")
            elements = properties.TopicSet._value_1 or []
        except (_Refused, AttributeError):
            return False
        return any(
            isinstance(node.tag, str) and node.tag.rpartition("}")[2] in PERSON_TOPICS
            for element in elements
            for node in element.iter()
        )

    async def _mac(self, device: Any) -> str | None:
        """Return the MAC address of the first interface that has one, if the device tells."""
        try:
            interfaces = await self._call(device, "GetNetworkInterfaces")
        except _Refused:
            return None
        for interface in interfaces or []:
            info = getattr(interface, "Info", None)
            if mac := _text(getattr(info, "HwAddress", None)):
                return mac.lower()
        return None

    async def _sync_clock(self) -> None:
        """Learn the device's clock offset: WS-Security timestamps are checked against it."""
        async with self._service("devicemgmt", self._device_url) as device:
            try:
                answer = await self._call(device, "authless_GetSystemDateAndTime")
            except _Refused:
                return
        self._dt_diff = clock_offset(answer)
        if self._dt_diff is not None and abs(self._dt_diff) > timedelta(seconds=5):
            _LOGGER.debug("The clock of %s is off ours by %s", self._host, self._dt_diff)

    async def _xaddr(self, category: str) -> str:
        """Return the address of the device's Media or Events service, at the configured host."""
        async with self._service("devicemgmt", self._device_url) as device:
            capabilities = await self._call(device, "GetCapabilities", {"Category": "All"})
        try:
            return self._rebase(getattr(capabilities, category).XAddr)
        except AttributeError as err:
            raise CannotConnect(f"{self._host} names no {category} service") from err

    def _rebase(
        self, url: Any, credentials: str = "", port: int | None = None, *, stream: bool = False
    ) -> str:
        """Return a URL the device named, at the configured host: nothing else is contacted.

        A `stream` must be RTSP(S), or UnsupportedStream; any other address HTTP(S), or
        _Malformed. Messages leave the URL out: some devices put passwords in it.
        """
        try:
            parsed = URL(normalize_url(url) or "")
        except (AttributeError, TypeError, ValueError) as err:
            raise _Malformed(f"{self._host} named an unusable address") from err
        if parsed.scheme and parsed.scheme not in (STREAM_SCHEMES if stream else HTTP_SCHEMES):
            if stream:
                raise UnsupportedStream(self._host, parsed.scheme)
            raise _Malformed(f"{self._host} named a {parsed.scheme} address for a service")
        if not parsed.absolute:
            raise _Malformed(f"{self._host} named an unusable address")
        port = port or parsed.explicit_port
        at = url_host(self._host) + ("" if port is None else f":{port}")
        return f"{parsed.scheme}://{credentials}{at}{parsed.raw_path_qs}"

    @contextlib.asynccontextmanager
    async def _service(self, kind: str, xaddr: str) -> AsyncIterator[Any]:
        """Yield one of the library's services, its requests sent through our session."""
        definition = SERVICES[kind]
        service = ONVIFService(
            xaddr,
            self._username,
            self._password,
            str(WSDL_DIR / definition["wsdl"]),
            no_cache=True,
            dt_diff=self._dt_diff,
            binding_name=f"{{{definition['ns']}}}{definition['binding']}",
        )
        # Replaces the transport on the library's own session, which never opens a connection.
        service.transport = AsyncTransportProtocolErrorHandler(session=self._soap)
        try:
            await service.setup()
            yield service
        finally:
            await service.close()

    async def _call(
        self,
        service: Any,
        operation: str,
        params: dict[str, Any] | None = None,
        *,
        seconds: float | None = None,
    ) -> Any:
        """Call a SOAP operation; raise InvalidAuth, _Refused, _Malformed or CannotConnect."""
        call = getattr(service, operation)
        try:
            async with asyncio.timeout(seconds or self._request_timeout):
                return await call(params)
        except Fault as err:
            if is_auth_error(err):
                raise InvalidAuth(f"{self._host} refused the user name or password") from err
            raise _Refused(f"{self._host}: {operation}: {stringify_onvif_error(err)}") from err
        except (ZeepError, AttributeError, ValueError) as err:  # an answer zeep cannot read
            raise _Malformed(f"{self._host}: {operation}: {describe(err)}") from err
        except (aiohttp.ClientError, OSError) as err:
            reason = describe(err)
            raise CannotConnect(f"{self._host} did not answer {operation}: {reason}") from err
