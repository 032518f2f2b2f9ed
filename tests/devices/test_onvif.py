"""The ONVIF driver against the virtual Reolink doorbell, and against a few odd SOAP servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import dataclasses
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree as ET

import aiohttp
from aiohttp import web
import pytest

from custom_components.local_doorbell.devices.base import (
    CannotConnect,
    DoorbellEvent,
    EventKind,
    InvalidAuth,
    UnsupportedStream,
)
from custom_components.local_doorbell.devices.onvif import OnvifDoorbell, clock_offset
from custom_components.local_doorbell.devices.onvif_events import MessageMapper
from tests.helpers.drivers import online, onvif, onvif_driver, starts_and_stops
from tests.helpers.events import Events, events_of, free_port, wait_for
from tests.helpers.servers import serving
from tests.helpers.video import first_picture
from virtual_doorbell import VirtualDoorbell
from virtual_doorbell.onvif_soap import SoapFault, envelope
from virtual_doorbell.onvif_topics import VISITOR as VISITOR_TOPIC

VISITOR = "tns1:RuleEngine/MyRuleDetector/Visitor"


@pytest.fixture
def doorbell_model() -> str:
    return "ReolinkDoorbell"


async def one_ring(events: Events, doorbell: VirtualDoorbell) -> DoorbellEvent:
    """Press, and check that the press gives exactly one ring and nothing else."""
    await wait_for(lambda: not onvif(doorbell).events.value(VISITOR_TOPIC))
    doorbell.press()
    seen = await events.until(EventKind.RING)
    assert [event.kind for event in seen] == [EventKind.RING]
    # Motion after the press is a marker: the press has been read whole before it.
    await starts_and_stops(events, doorbell)
    return seen[-1]


# Identity, streams and snapshot.


async def test_probe(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    info = await onvif_driver(session, doorbell).probe()
    assert info.manufacturer == "Reolink"
    assert info.model == "Video Doorbell PoE"  # the maker is named once
    assert info.serial == doorbell.state.serial
    assert info.firmware == doorbell.state.firmware
    assert info.mac == doorbell.state.mac.lower()
    assert info.has_person is True


@pytest.mark.parametrize("has_person", [True, False])
async def test_people_from_the_topics(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, has_person: bool
) -> None:
    onvif(doorbell).manufacturer = "Acme"
    doorbell.state.model = dataclasses.replace(doorbell.state.model, has_person=has_person)
    info = await onvif_driver(session, doorbell).probe()
    assert (info.manufacturer, info.has_person) == ("Acme", has_person)


async def test_wrong_password_for_the_streams(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    """Beyond the contract (test_contract.py): the media service refuses too."""
    device = onvif_driver(session, doorbell, password="wrong")
    with pytest.raises(InvalidAuth):
        await device.stream_urls()


@pytest.mark.parametrize("hours", [2, -2])
async def test_device_clock_offset(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, hours: int
) -> None:
    onvif(doorbell).clock_offset = hours * 3600
    device = onvif_driver(session, doorbell)
    assert (await device.probe()).serial == doorbell.state.serial
    async with events_of(device) as events:
        await online(events, doorbell)
        await one_ring(events, doorbell)


def test_timing_limits() -> None:
    with pytest.raises(ValueError, match="pull_timeout"):
        OnvifDoorbell(None, "127.0.0.1", 80, "admin", "x", pull_timeout=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="subscription_time"):
        OnvifDoorbell(None, "127.0.0.1", 80, "a", "x", subscription_time=1)  # type: ignore[arg-type]


async def test_stream_urls_decode(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    device = onvif_driver(session, doorbell)
    urls = await device.stream_urls()
    assert (urls.main, urls.sub) == (doorbell.rtsp_url(0), doorbell.rtsp_url(1))
    sizes = [await asyncio.to_thread(first_picture, url) for url in (urls.main, urls.sub)]
    assert sizes == [(320, 240), (106, 80)]
    # Kept: a device that is rebooting still gets its addresses.
    await doorbell.fault("reboot", 1)
    assert await device.stream_urls() == urls


async def test_snapshot_is_signed(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    device = onvif_driver(session, doorbell)
    await device.snapshot()  # learns the snapshot's address
    await doorbell.fault("refuse_auth")
    with pytest.raises(InvalidAuth):
        await device.snapshot()


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1/live.m3u8",  # a playlist whose segments may point anywhere
        "udp://127.0.0.1:5000?listen=1",
        "tcp://127.0.0.1:9000",
        "file:///etc/passwd",
        "RTMP://admin:secret@127.0.0.1/live",
    ],
)
async def test_streams_other_than_rtsp_are_refused(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, uri: str
) -> None:
    onvif(doorbell).stream_uri = uri
    with pytest.raises(UnsupportedStream) as refused:
        await onvif_driver(session, doorbell).stream_urls()
    assert refused.value.scheme == uri.partition(":")[0].lower()
    assert "secret" not in str(refused.value)


async def test_rtsps_is_taken_at_the_configured_host(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    onvif(doorbell).stream_uri = "rtsps://10.0.0.9:322/live?x=1"
    urls = await onvif_driver(session, doorbell).stream_urls()
    credentials = f"{doorbell.username}:{doorbell.password}"
    assert urls.main == urls.sub == f"rtsps://{credentials}@127.0.0.1:322/live?x=1"


async def test_empty_stream_uri_answer(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    onvif(doorbell).stream_uri = ""  # <trt:GetStreamUriResponse/>
    with pytest.raises(CannotConnect, match="unusable address"):
        await onvif_driver(session, doorbell).stream_urls()


@pytest.mark.parametrize("advertised", ["192.0.2.10", "10.99.0.1"])
async def test_addresses_the_device_names_are_not_contacted(
    session: aiohttp.ClientSession,
    doorbell: VirtualDoorbell,
    connect_attempts: list[object],
    advertised: str,
) -> None:
    onvif(doorbell).advertised_host = advertised
    before = len(connect_attempts)
    device = onvif_driver(session, doorbell)
    await device.probe()
    urls = await device.stream_urls()
    assert urls.main == doorbell.rtsp_url(0)
    assert (await device.snapshot()).startswith(b"\xff\xd8")
    async with events_of(device) as events:
        await online(events, doorbell)
        await one_ring(events, doorbell)
    attempted = connect_attempts[before:]
    assert attempted
    assert {address[0] for address in attempted if isinstance(address, tuple)} == {"127.0.0.1"}


# PullPoint events.


async def test_ring_once_per_press_and_not_on_initialized(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    device = onvif_driver(session, doorbell)
    onvif(doorbell).visitor_hold = 60
    doorbell.press()  # Visitor is still true when the subscription starts
    async with events_of(device) as events:
        await online(events, doorbell)
        doorbell.motion(True)
        assert [e.kind for e in await events.until(EventKind.MOTION)] == [EventKind.MOTION]
        onvif(doorbell).visitor_hold = 0.05
        doorbell.press()  # true again while true: no new ring either
        doorbell.motion(False)
        assert [e.kind for e in await events.until(EventKind.MOTION)] == [EventKind.MOTION]
        ring = await one_ring(events, doorbell)
        assert ring.code == VISITOR
        assert ring.data == {"source": "Source=000", "operation": "Changed"}
        await one_ring(events, doorbell)


async def test_motion_and_person(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    doorbell.motion(True)  # reported from the Initialized state
    async with events_of(onvif_driver(session, doorbell)) as events:
        await online(events, doorbell)
        assert [(e.kind, e.active) for e in [await events.next()]] == [(EventKind.MOTION, True)]
        doorbell.motion(False)
        doorbell.person(True)
        doorbell.person(False)
        seen = [(e.kind, e.active) for e in [await events.next() for _ in range(3)]]
        assert seen == [
            (EventKind.MOTION, False),
            (EventKind.PERSON, True),
            (EventKind.PERSON, False),
        ]
        await one_ring(events, doorbell)


# `+99:00` parses, then raises ValueError when the lifetime is worked out: the driver takes
# the lifetime it asked for, and renews halfway through it.
@pytest.mark.parametrize("time_zone", ["Z", "+99:00"])
async def test_renewal_keeps_the_subscription(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, time_zone: str
) -> None:
    personality = onvif(doorbell)
    personality.events.time_zone = time_zone
    async with events_of(onvif_driver(session, doorbell, subscription_time=2)) as events:
        await online(events, doorbell)
        waiting = asyncio.create_task(events.next(limit=15))  # pulls and renews meanwhile
        # Renewed at half its lifetime: three renewals outlast the first TerminationTime.
        await wait_for(lambda: personality.events.renewals >= 3, limit=10)
        doorbell.press()
        assert (await waiting).kind is EventKind.RING
    assert doorbell.state.counters.event_clients_total == 1


async def test_stall_is_detected(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    async with events_of(onvif_driver(session, doorbell, request_timeout=0.5)) as events:
        await online(events, doorbell)
        await doorbell.fault("stall")
        assert (await events.next()).kind is EventKind.OFFLINE
        await online(events, doorbell, streams=2)
        # The stalled subscription was given up.
        await wait_for(lambda: doorbell.state.counters.event_clients == 1)
        doorbell.clear_faults()
        await one_ring(events, doorbell)


async def test_closing_unsubscribes(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    async with events_of(onvif_driver(session, doorbell)) as events:
        await online(events, doorbell)
        assert doorbell.state.counters.event_clients == 1
    assert doorbell.state.counters.event_clients == 0


# Servers that answer oddly.

Answer = Callable[[web.Request], web.StreamResponse]


def soap(body: str, status: int = 200) -> Answer:
    """Return a route answering a SOAP body."""
    return lambda _: web.Response(
        body=envelope(body), status=status, content_type="application/soap+xml"
    )


def fault(subcode: str = "ter:ActionNotSupported") -> Answer:
    return lambda _: web.Response(
        body=SoapFault(subcode, "Optional Action Not Implemented").render(),
        status=400,
        content_type="application/soap+xml",
    )


CLOCK = soap(
    "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
    "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
    "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
)


@pytest.fixture
async def odd_server(socket_enabled: None) -> AsyncIterator[tuple[int, dict[str, Answer]]]:
    """Run a SOAP server without authentication whose answers each test chooses by operation."""
    routes: dict[str, Answer] = {"GetSystemDateAndTime": CLOCK}

    async def answer(request: web.Request) -> web.StreamResponse:
        if request.method == "GET":
            route = routes.get("GET " + request.path_qs)
        else:
            body = ET.fromstring(await request.read()).find("{*}Body")  # noqa: S314
            assert body is not None
            route = routes.get(body[0].tag.rpartition("}")[2])
        return fault()(request) if route is None else route(request)

    async with serving(answer) as port:
        routes["GetCapabilities"] = soap(
            "<tds:GetCapabilitiesResponse><tds:Capabilities>"
            f"<tt:Events><tt:XAddr>http://10.0.0.9:{port}/events</tt:XAddr></tt:Events>"
            f"<tt:Media><tt:XAddr>http://10.0.0.9:{port}/media</tt:XAddr></tt:Media>"
            "</tds:Capabilities></tds:GetCapabilitiesResponse>"
        )
        yield port, routes


def odd_driver(session: aiohttp.ClientSession, port: int, **options: Any) -> OnvifDoorbell:
    options = {"backoff_base": 0.05, "pull_timeout": 1, "request_timeout": 2.0, **options}
    return OnvifDoorbell(session, "127.0.0.1", port, "admin", "secret", **options)


def information(serial: str = "") -> Answer:
    return soap(
        "<tds:GetDeviceInformationResponse><tds:Manufacturer></tds:Manufacturer>"
        f"<tds:Model>Door 1</tds:Model><tds:SerialNumber>{serial}</tds:SerialNumber>"
        "</tds:GetDeviceInformationResponse>"
    )


def media(routes: dict[str, Answer], port: int) -> None:
    """Answer the media service: one profile, its stream, and a snapshot at `/snap.jpg`."""
    routes["GetProfiles"] = soap(
        '<trt:GetProfilesResponse><trt:Profiles token="000"/></trt:GetProfilesResponse>'
    )
    routes["GetStreamUri"] = soap(
        "<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://x:554/a</tt:Uri>"
        "</trt:MediaUri></trt:GetStreamUriResponse>"
    )
    routes["GetSnapshotUri"] = soap(
        "<trt:GetSnapshotUriResponse><trt:MediaUri>"
        f"<tt:Uri>http://10.0.0.9:{port}/snap.jpg</tt:Uri></trt:MediaUri>"
        "</trt:GetSnapshotUriResponse>"
    )


def subscription(address: str, times: str = "") -> Answer:
    return soap(
        "<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
        f"<wsa5:Address>{address}</wsa5:Address></tev:SubscriptionReference>{times}"
        "</tev:CreatePullPointSubscriptionResponse>"
    )


async def test_probe_falls_back_to_the_mac(
    session: aiohttp.ClientSession, odd_server: tuple[int, dict[str, Answer]]
) -> None:
    port, routes = odd_server
    routes["GetDeviceInformation"] = information()
    routes["GetNetworkInterfaces"] = soap(
        "<tds:GetNetworkInterfacesResponse>"
        '<tds:NetworkInterfaces token="wlan0"><tt:Enabled>true</tt:Enabled></tds:NetworkInterfaces>'
        '<tds:NetworkInterfaces token="eth0"><tt:Enabled>true</tt:Enabled><tt:Info>'
        "<tt:HwAddress>AA:BB:CC:00:11:22</tt:HwAddress></tt:Info></tds:NetworkInterfaces>"
        "</tds:GetNetworkInterfacesResponse>"
    )
    info = await odd_driver(session, port).probe()
    assert (info.manufacturer, info.model, info.serial) == ("ONVIF", "Door 1", "aa:bb:cc:00:11:22")
    # No GetEventProperties (the server faults it): no people detection.
    assert (info.firmware, info.has_person) == ("", False)


async def test_probe_of_a_reticent_device(
    session: aiohttp.ClientSession, odd_server: tuple[int, dict[str, Answer]]
) -> None:
    port, routes = odd_server
    routes["GetSystemDateAndTime"] = fault()  # no clock: its own is taken to be right
    routes["GetDeviceInformation"] = information(serial="SN1")
    info = await odd_driver(session, port).probe()
    assert (info.serial, info.mac) == ("SN1", None)


async def test_closed_session(socket_enabled: None) -> None:
    async with aiohttp.ClientSession() as closed:
        pass
    with pytest.raises(CannotConnect):
        await OnvifDoorbell(closed, "127.0.0.1", free_port(), "admin", "x").probe()


async def test_probe_without_identity(
    session: aiohttp.ClientSession, odd_server: tuple[int, dict[str, Answer]]
) -> None:
    port, routes = odd_server
    routes["GetDeviceInformation"] = information()
    routes["GetNetworkInterfaces"] = soap("<tds:GetNetworkInterfacesResponse/>")
    with pytest.raises(CannotConnect, match="serial"):
        await odd_driver(session, port).probe()


@pytest.mark.parametrize(
    "answer",
    [
        lambda _: web.Response(status=401, text="Unauthorized"),
        lambda _: web.Response(status=401),
        fault("ter:NotAuthorized"),
    ],
)
async def test_refusals_are_invalid_auth(
    session: aiohttp.ClientSession, odd_server: tuple[int, dict[str, Answer]], answer: Answer
) -> None:
    port, routes = odd_server
    routes["GetDeviceInformation"] = answer
    with pytest.raises(InvalidAuth):
        await odd_driver(session, port).probe()


@pytest.mark.parametrize(
    "answer",
    [
        lambda _: web.Response(status=500, text="<html>oops</html>"),
        lambda _: web.Response(text="plain text"),
        lambda _: web.Response(text="<?xml version='1.0'?><other/>"),
        soap("<tds:GetCapabilitiesResponse><tds:Capabilities/></tds:GetCapabilitiesResponse>"),
        soap(
            "<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>/media"
            "</tt:XAddr></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>"
        ),
        soap(
            "<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>http://[::1/m"
            "</tt:XAddr></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>"
        ),
        lambda _: web.Response(
            status=307, headers={"Location": "http://127.0.0.1:1/onvif/device_service"}
        ),
        soap(
            "<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>ftp://10.0.0.9/m"
            "</tt:XAddr></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>"
        ),
    ],
)
async def test_unusable_answers(
    session: aiohttp.ClientSession, odd_server: tuple[int, dict[str, Answer]], answer: Answer
) -> None:
    port, routes = odd_server
    routes["GetCapabilities"] = answer
    with pytest.raises(CannotConnect):
        await odd_driver(session, port).stream_urls()


async def test_media_edge_cases(
    session: aiohttp.ClientSession, odd_server: tuple[int, dict[str, Answer]]
) -> None:
    port, routes = odd_server
    routes["GetProfiles"] = soap("<trt:GetProfilesResponse/>")
    with pytest.raises(CannotConnect, match="profile"):
        await odd_driver(session, port).stream_urls()
    # One profile serves both streams; the port the URI names is kept; no snapshot URI.
    routes["GetProfiles"] = soap(
        '<trt:GetProfilesResponse><trt:Profiles token="only"><tt:Name>only</tt:Name>'
        "</trt:Profiles></trt:GetProfilesResponse>"
    )
    routes["GetStreamUri"] = soap(
        "<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://192.168.1.9/live?a=1%202"
        "</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>"
    )
    device = odd_driver(session, port)
    urls = await device.stream_urls()
    assert urls.main == urls.sub == "rtsp://admin:secret@127.0.0.1/live?a=1%202"
    urls = await odd_driver(session, port, rtsp_port=8554).stream_urls()
    assert urls.main == "rtsp://admin:secret@127.0.0.1:8554/live?a=1%202"
    with pytest.raises(CannotConnect, match="no snapshot"):
        await device.snapshot()
    # A snapshot URI that is not HTTP: no snapshot, and the streams stay usable.
    routes["GetSnapshotUri"] = soap(
        "<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>rtsp://192.168.1.9/snap</tt:Uri>"
        "</trt:MediaUri></trt:GetSnapshotUriResponse>"
    )
    device = odd_driver(session, port)
    assert (await device.stream_urls()).main == "rtsp://admin:secret@127.0.0.1/live?a=1%202"
    with pytest.raises(CannotConnect, match="no snapshot"):
        await device.snapshot()


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        ([web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="x"'})], None),
        ([web.Response(status=401, headers={"WWW-Authenticate": "Bearer"})], InvalidAuth),
        ([web.Response(status=404)], CannotConnect),
        ([web.Response(body=b"<html>not a picture</html>")], CannotConnect),
        (
            [web.Response(status=302, headers={"Location": "http://127.0.0.1:1/elsewhere"})],
            CannotConnect,
        ),
    ],
)
async def test_snapshot_answers(
    session: aiohttp.ClientSession,
    odd_server: tuple[int, dict[str, Answer]],
    answers: list[web.Response],
    error: type[Exception] | None,
) -> None:
    port, routes = odd_server
    media(routes, port)
    seen: list[str | None] = []

    def snapshot(request: web.Request) -> web.StreamResponse:
        seen.append(request.headers.get("Authorization"))
        return answers[0] if len(seen) == 1 else web.Response(body=b"\xff\xd8\xff\xd9")

    routes["GET /snap.jpg"] = snapshot
    device = odd_driver(session, port)
    if error is None:
        assert await device.snapshot() == b"\xff\xd8\xff\xd9"
        # Basic only when the device asks for it: "admin:secret".
        assert seen == [None, "Basic YWRtaW46c2VjcmV0"]
    else:
        with pytest.raises(error):
            await device.snapshot()


async def test_snapshot_port_closed(
    session: aiohttp.ClientSession, odd_server: tuple[int, dict[str, Answer]]
) -> None:
    port, routes = odd_server
    media(routes, free_port())
    with pytest.raises(CannotConnect, match="did not answer"):
        await odd_driver(session, port).snapshot()


async def test_user_name_with_colon(
    session: aiohttp.ClientSession, odd_server: tuple[int, dict[str, Answer]]
) -> None:
    port, routes = odd_server
    media(routes, port)
    device = OnvifDoorbell(session, "127.0.0.1", port, "ad:min", "secret")
    with pytest.raises(InvalidAuth):
        await device.snapshot()


async def test_malformed_pulls_twice_in_a_row_resubscribe(
    session: aiohttp.ClientSession, odd_server: tuple[int, dict[str, Answer]]
) -> None:
    port, routes = odd_server
    # A device that names no times: the driver renews after half its own lifetime.
    routes["CreatePullPointSubscription"] = subscription(f"http://[fe80::9]:{port}/sub?Idx=1")
    pulls: list[None] = []

    def garbage(_: web.Request) -> web.StreamResponse:
        pulls.append(None)
        return web.Response(body=b"<oops", content_type="application/soap+xml")

    routes["PullMessages"] = garbage
    async with events_of(odd_driver(session, port)) as events:
        assert (await events.next()).kind is EventKind.ONLINE
        assert (await events.next()).kind is EventKind.OFFLINE
    assert len(pulls) == 2


async def test_subscription_without_address(
    session: aiohttp.ClientSession, odd_server: tuple[int, dict[str, Answer]]
) -> None:
    port, routes = odd_server
    routes["CreatePullPointSubscription"] = soap("<tev:CreatePullPointSubscriptionResponse/>")
    async with events_of(odd_driver(session, port)) as events:
        assert (await events.next()).kind is EventKind.OFFLINE


async def test_renewal_failure_resubscribes(
    session: aiohttp.ClientSession, odd_server: tuple[int, dict[str, Answer]]
) -> None:
    port, routes = odd_server
    now = datetime.now(UTC)
    times = (
        f"<wsnt:CurrentTime>{now:%Y-%m-%dT%H:%M:%SZ}</wsnt:CurrentTime>"
        f"<wsnt:TerminationTime>{now + timedelta(seconds=2):%Y-%m-%dT%H:%M:%SZ}"
        "</wsnt:TerminationTime>"
    )
    routes["CreatePullPointSubscription"] = subscription(f"http://x:{port}/sub", times)
    routes["PullMessages"] = soap("<tev:PullMessagesResponse/>")
    # Renew and Unsubscribe are faulted: the subscription is lost at its first renewal.
    async with events_of(odd_driver(session, port)) as events:
        assert (await events.next()).kind is EventKind.ONLINE
        assert (await events.next(limit=10)).kind is EventKind.OFFLINE


# Pure helpers.


def test_clock_offset() -> None:
    ahead = datetime.now(UTC) + timedelta(hours=2)
    time = SimpleNamespace(Hour=ahead.hour, Minute=ahead.minute, Second=ahead.second)
    date = SimpleNamespace(Year=ahead.year, Month=ahead.month, Day=ahead.day)
    offset = clock_offset(SimpleNamespace(UTCDateTime=SimpleNamespace(Time=time, Date=date)))
    assert offset is not None
    assert timedelta(hours=2) - timedelta(seconds=5) < offset <= timedelta(hours=2)
    assert clock_offset(SimpleNamespace(UTCDateTime=None)) is None
    date.Month = 13
    assert clock_offset(SimpleNamespace(UTCDateTime=SimpleNamespace(Time=time, Date=date))) is None


def message(topic: str, name: str, value: str, operation: str | None = "Changed") -> Any:
    item = SimpleNamespace(Name=name, Value=value)
    payload = SimpleNamespace(
        PropertyOperation=operation,
        Source=SimpleNamespace(SimpleItem=[SimpleNamespace(Name="Source", Value="000")]),
        Data=SimpleNamespace(SimpleItem=[item]),
    )
    return SimpleNamespace(
        Topic=SimpleNamespace(_value_1=topic), Message=SimpleNamespace(_value_1=payload)
    )


def test_mapper() -> None:
    mapper = MessageMapper()
    motion = "tns1:VideoSource/MotionAlarm"
    cell = "tns1:RuleEngine/CellMotionDetector/Motion//."
    kinds = [
        mapper.map(message(VISITOR, "State", "true", "Initialized")),
        mapper.map(message(VISITOR, "State", "false")),
        mapper.map(message(VISITOR, "State", "true", None)),  # no PropertyOperation: a change
        mapper.map(message(motion, "State", "true")),
        mapper.map(message(cell, "IsMotion", "true")),
        mapper.map(message(motion, "State", "false")),  # the cell detector still sees motion
        mapper.map(message(cell, "IsMotion", "false")),
        mapper.map(message("tns1:RuleEngine/MyRuleDetector/DogCatDetect", "State", "true")),
        mapper.map(message("RuleEngine/MyRuleDetector/PeopleDetect", "State", "1")),
        mapper.map(message(motion, "Other", "true")),
        mapper.map(SimpleNamespace(Topic=None)),
    ]
    assert [(e.kind, e.active) if e else None for e in kinds] == [
        None,
        None,
        (EventKind.RING, True),
        (EventKind.MOTION, True),
        None,
        None,
        (EventKind.MOTION, False),
        None,
        (EventKind.PERSON, True),
        None,
        None,
    ]
