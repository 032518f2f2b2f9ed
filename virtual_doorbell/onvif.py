"""The ONVIF personality (a Reolink doorbell): SOAP services, PullPoint events, snapshot CGI."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from aiohttp import web

from .http import check_answer_faults
from .onvif_events import EventService
from .onvif_soap import (
    NAMESPACES,
    Operation,
    SoapFault,
    SoapRequest,
    endpoint,
    envelope,
    verify_token,
)
from .onvif_topics import CELL_MOTION, MOTION_ALARM, PEOPLE, VISITOR

if TYPE_CHECKING:
    from .device import VirtualDoorbell

DEVICE_PATH = "/onvif/device_service"
MEDIA_PATH = "/onvif/media_service"
EVENT_PATH = "/onvif/event_service"
SUBSCRIPTION_PATH = "/onvif/Subscription"
SNAPSHOT_PATH = "/cgi-bin/api.cgi"
STREAMS = ("/h264Preview_01_main", "/h264Preview_01_sub")
PROFILES = ("000", "001")
# Far deeper than libxml2 parses (256 levels), far smaller than any size limit.
DEEP_XML = envelope("<a>" * 1000 + "</a>" * 1000)


def _date_time(moment: datetime) -> str:
    return (
        f"<tt:Time><tt:Hour>{moment.hour}</tt:Hour><tt:Minute>{moment.minute}</tt:Minute>"
        f"<tt:Second>{moment.second}</tt:Second></tt:Time>"
        f"<tt:Date><tt:Year>{moment.year}</tt:Year><tt:Month>{moment.month}</tt:Month>"
        f"<tt:Day>{moment.day}</tt:Day></tt:Date>"
    )


class OnvifPersonality:
    """A Reolink Video Doorbell as its ONVIF server presents itself."""

    def __init__(self, device: VirtualDoorbell) -> None:
        """Serve `device`'s state; the settings below may be changed while it runs."""
        self._device = device
        device.state.firmware = "v3.0.0.3215_2401262081"
        device.state.mac = "EC:71:DB:00:00:01"
        self.manufacturer = "Reolink"
        self.clock_offset = 0.0  # seconds the device's clock is ahead
        self.clock_tolerance = 30.0  # seconds a UsernameToken's Created may be off
        self.advertised_host: str | None = None  # the host it names in URLs; None: its own
        self.stream_uri: str | None = None  # what GetStreamUri names; None: RTSP; "": nothing
        self.visitor_hold = 1.0  # seconds the Visitor state stays true after a press
        self.events = EventService(
            device.state,
            self.now,
            lambda index: self._url(device.http_port, f"{SUBSCRIPTION_PATH}?Idx={index}"),
        )
        self._release: asyncio.TimerHandle | None = None

    def now(self) -> datetime:
        """Return the time on the device's clock."""
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    def add_routes(self, app: web.Application) -> None:
        """Add the SOAP services, the snapshot CGI and `/sim/onvif` for the settings above."""
        events, subscription = self.events.operations()
        services: dict[str, Mapping[str, Operation]] = {
            DEVICE_PATH: {
                "GetSystemDateAndTime": self._date_and_time,
                "GetDeviceInformation": self._device_information,
                "GetCapabilities": self._capabilities,
                "GetServices": self._services,
                "GetNetworkInterfaces": self._network_interfaces,
            },
            MEDIA_PATH: {
                "GetProfiles": self._profiles,
                "GetStreamUri": self._stream_uri,
                "GetSnapshotUri": self._snapshot_uri,
            },
            EVENT_PATH: events,
            SUBSCRIPTION_PATH: subscription,
        }
        for path, operations in services.items():
            app.router.add_post(path, endpoint(operations, self._authorized))
        app.router.add_get(SNAPSHOT_PATH, self._snapshot)
        app.router.add_post("/sim/onvif", self._settings)

    def rtsp_path(self, subtype: int) -> str:
        """Return `/h264Preview_01_main` or `/h264Preview_01_sub`."""
        return STREAMS[subtype]

    def rtsp_source(self, path: str, query: Mapping[str, Sequence[str]]) -> int | None:
        """Return the stream of a Reolink RTSP path."""
        return STREAMS.index(path) if path in STREAMS else None

    def press(self) -> None:
        """Set Visitor true, and false again `visitor_hold` seconds later."""
        self.events.set(VISITOR, True)
        if self._release is not None:
            self._release.cancel()
        self._release = asyncio.get_running_loop().call_later(
            self.visitor_hold, self.events.set, VISITOR, False
        )

    def motion(self, start: bool) -> None:
        """Set both motion properties."""
        self.events.set(MOTION_ALARM, start)
        self.events.set(CELL_MOTION, start)

    def person(self, start: bool) -> bool:
        """Set PeopleDetect where the model has it."""
        if self._device.state.model.has_person:
            self.events.set(PEOPLE, start)
        return self._device.state.model.has_person

    def drop_events(self) -> None:
        """End every subscription, as a reboot does: the next PullMessages gets a fault."""
        self.events.clear()
        if self._release is not None:  # the button state does not outlive a reboot either
            self._release.cancel()
            self._release = None
            self.events.set(VISITOR, False)

    def stall(self, stalled: bool) -> None:
        """Make PullMessages hang (or answer again)."""
        self.events.stall(stalled)

    def garbage(self) -> None:
        """Answer the next PullMessages of every subscription with malformed XML."""
        self.events.garbage()

    def deep_nesting(self, nested: bool) -> None:
        """Answer the next PullMessages of every subscription with XML nested too deep."""
        if nested:
            self.events.garbage(DEEP_XML)

    def _authorized(self, soap: SoapRequest) -> bool:
        """Check the UsernameToken against the device's account and clock."""
        device = self._device
        authorized = not device.auth.refuse_all and verify_token(
            soap.token, device.username, device.password, self.now(), self.clock_tolerance
        )
        if authorized:
            check_answer_faults(device.state.faults)
        return authorized

    def _url(self, port: int, path: str, scheme: str = "http") -> str:
        """Return a URL as the device names it, escaped for XML."""
        host = self.advertised_host or self._device.host
        host = f"[{host}]" if ":" in host else host
        return escape(f"{scheme}://{host}:{port}{path}")

    # The device service.

    async def _date_and_time(self, soap: SoapRequest, request: web.Request) -> str:
        now = self.now()
        return (
            "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
            "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
            "<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>"
            f"<tt:UTCDateTime>{_date_time(now)}</tt:UTCDateTime>"
            f"<tt:LocalDateTime>{_date_time(now)}</tt:LocalDateTime>"
            "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
        )

    async def _device_information(self, soap: SoapRequest, request: web.Request) -> str:
        state = self._device.state
        return (
            "<tds:GetDeviceInformationResponse>"
            f"<tds:Manufacturer>{escape(self.manufacturer)}</tds:Manufacturer>"
            f"<tds:Model>{escape(state.model.device_type)}</tds:Model>"
            f"<tds:FirmwareVersion>{escape(state.firmware)}</tds:FirmwareVersion>"
            f"<tds:SerialNumber>{escape(state.serial)}</tds:SerialNumber>"
            "<tds:HardwareId>DB_566128M5MP_P</tds:HardwareId>"
            "</tds:GetDeviceInformationResponse>"
        )

    async def _capabilities(self, soap: SoapRequest, request: web.Request) -> str:
        port = self._device.http_port
        return (
            "<tds:GetCapabilitiesResponse><tds:Capabilities>"
            f"<tt:Device><tt:XAddr>{self._url(port, DEVICE_PATH)}</tt:XAddr></tt:Device>"
            f"<tt:Events><tt:XAddr>{self._url(port, EVENT_PATH)}</tt:XAddr>"
            "<tt:WSSubscriptionPolicySupport>true</tt:WSSubscriptionPolicySupport>"
            "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
            "<tt:WSPausableSubscriptionManagerInterfaceSupport>false"
            "</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>"
            f"<tt:Media><tt:XAddr>{self._url(port, MEDIA_PATH)}</tt:XAddr>"
            "<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>"
            "<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>"
            "</tt:StreamingCapabilities></tt:Media>"
            "</tds:Capabilities></tds:GetCapabilitiesResponse>"
        )

    async def _services(self, soap: SoapRequest, request: web.Request) -> str:
        port = self._device.http_port
        services = "".join(
            f"<tds:Service><tds:Namespace>{NAMESPACES[prefix]}</tds:Namespace>"
            f"<tds:XAddr>{self._url(port, path)}</tds:XAddr>"
            "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version>"
            "</tds:Service>"
            for prefix, path in (("tds", DEVICE_PATH), ("trt", MEDIA_PATH), ("tev", EVENT_PATH))
        )
        return f"<tds:GetServicesResponse>{services}</tds:GetServicesResponse>"

    async def _network_interfaces(self, soap: SoapRequest, request: web.Request) -> str:
        return (
            '<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token="eth0">'
            "<tt:Enabled>true</tt:Enabled><tt:Info><tt:Name>eth0</tt:Name>"
            f"<tt:HwAddress>{self._device.state.mac.lower()}</tt:HwAddress>"
            "<tt:MTU>1500</tt:MTU></tt:Info>"
            "</tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>"
        )

    # The media service.

    async def _profiles(self, soap: SoapRequest, request: web.Request) -> str:
        profiles = "".join(
            f'<trt:Profiles token="{token}" fixed="true"><tt:Name>{name}</tt:Name>'
            f'<tt:VideoEncoderConfiguration token="{token}"><tt:Name>{name}</tt:Name>'
            "<tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>"
            "</tt:VideoEncoderConfiguration></trt:Profiles>"
            for token, name in zip(PROFILES, ("mainStream", "subStream"), strict=True)
        )
        return f"<trt:GetProfilesResponse>{profiles}</trt:GetProfilesResponse>"

    async def _stream_uri(self, soap: SoapRequest, request: web.Request) -> str:
        token = soap.text("ProfileToken")
        if token not in PROFILES:
            raise SoapFault("ter:NoProfile", "No such profile")
        if self.stream_uri == "":
            return "<trt:GetStreamUriResponse/>"
        uri = self._url(self._device.rtsp_port, STREAMS[PROFILES.index(token)], "rtsp")
        if self.stream_uri is not None:
            uri = escape(self.stream_uri)
        return f"<trt:GetStreamUriResponse>{_media_uri(uri)}</trt:GetStreamUriResponse>"

    async def _snapshot_uri(self, soap: SoapRequest, request: web.Request) -> str:
        uri = self._url(self._device.http_port, f"{SNAPSHOT_PATH}?cmd=onvifSnapPic&channel=0")
        return f"<trt:GetSnapshotUriResponse>{_media_uri(uri)}</trt:GetSnapshotUriResponse>"

    async def _snapshot(self, request: web.Request) -> web.StreamResponse:
        auth = self._device.auth
        if not auth.verify(request.method, request.headers.get("Authorization")):
            return web.Response(
                status=401, text="Unauthorized", headers={"WWW-Authenticate": auth.challenge()}
            )
        check_answer_faults(self._device.state.faults)
        if request.query.get("cmd") != "onvifSnapPic" or request.query.get("channel") != "0":
            return web.json_response([{"cmd": request.query.get("cmd"), "code": 1}], status=400)
        jpeg = await self._device.snapshot_jpeg()
        return web.Response(body=jpeg, content_type="image/jpeg")

    async def _settings(self, request: web.Request) -> web.Response:
        """Change the settings above: `POST /sim/onvif?clock_offset=7200`.

        `advertised_host`, `stream_uri` and `time_zone` (how subscription times end, `Z` or an
        offset such as `+99:00`) take text; an empty one restores the default.
        """
        try:
            if (offset := request.query.get("clock_offset")) is not None:
                self.clock_offset = float(offset)
        except ValueError:
            return web.json_response({"error": "clock_offset must be a number"}, status=400)
        if (host := request.query.get("advertised_host")) is not None:
            self.advertised_host = host or None
        if (uri := request.query.get("stream_uri")) is not None:
            self.stream_uri = uri or None
        if (zone := request.query.get("time_zone")) is not None:
            self.events.time_zone = zone or "Z"
        return web.json_response(
            {
                "clock_offset": self.clock_offset,
                "advertised_host": self.advertised_host,
                "stream_uri": self.stream_uri,
                "time_zone": self.events.time_zone,
            }
        )


def _media_uri(uri: str) -> str:
    return (
        f"<trt:MediaUri><tt:Uri>{uri}</tt:Uri><tt:InvalidAfterConnect>false"
        "</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
        "<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>"
    )
