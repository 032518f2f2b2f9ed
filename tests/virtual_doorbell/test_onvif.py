"""The virtual doorbell's ONVIF personality in raw SOAP: services, WS-Security, PullPoint."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from datetime import UTC, datetime, timedelta
import hashlib
import secrets
from xml.etree import ElementTree as ET

import aiohttp
import pytest

from tests.helpers.drivers import onvif
from tests.helpers.events import wait_for
from tests.helpers.video import first_picture
from virtual_doorbell import VirtualDoorbell
from virtual_doorbell.onvif import (
    DEVICE_PATH,
    EVENT_PATH,
    MEDIA_PATH,
    SUBSCRIPTION_PATH,
)
from virtual_doorbell.onvif_soap import NAMESPACES, SoapFault, seconds_until, xml_time

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
TOKEN_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
DECLARATIONS = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES.items())


@pytest.fixture
def doorbell_model() -> str:
    return "ReolinkDoorbell"


def token(
    doorbell: VirtualDoorbell,
    *,
    username: str | None = None,
    password: str | None = None,
    skew: float = 0.0,
    created: str | None = None,
    nonce: str | None = None,
    plain: bool = False,
) -> str:
    """Return a WS-Security header, its Created on the device's clock shifted by `skew`."""
    moment = onvif(doorbell).now() + timedelta(seconds=skew)
    created = xml_time(moment) if created is None else created
    raw = secrets.token_bytes(16)
    nonce = base64.b64encode(raw).decode() if nonce is None else nonce
    secret = doorbell.password if password is None else password
    digest = hashlib.sha1(raw + created.encode() + secret.encode(), usedforsecurity=False)
    value = secret if plain else base64.b64encode(digest.digest()).decode()
    kind = "#PasswordText" if plain else "#PasswordDigest"
    return (
        f'<env:Header><wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
        f"<wsse:Username>{username or doorbell.username}</wsse:Username>"
        f'<wsse:Password Type="{TOKEN_PROFILE}{kind}">{value}</wsse:Password>'
        f"<wsse:Nonce>{nonce}</wsse:Nonce><wsu:Created>{created}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security></env:Header>"
    )


async def call(
    session: aiohttp.ClientSession,
    doorbell: VirtualDoorbell,
    url: str,
    body: str,
    header: str | None = "",
) -> tuple[int, ET.Element]:
    """Post a SOAP request (signed unless `header` is None) and parse the answer."""
    header = token(doorbell) if header == "" else header or ""
    data = f"<env:Envelope {DECLARATIONS}>{header}<env:Body>{body}</env:Body></env:Envelope>"
    url = url if url.startswith("http") else doorbell.url + url
    async with session.post(url, data=data.encode()) as response:
        assert response.content_type == "application/soap+xml"
        return response.status, parse(await response.read())


def parse(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314  # the simulator's own answers


def text(root: ET.Element, name: str) -> str:
    found = root.find(f".//{{*}}{name}")
    assert found is not None, f"no {name} in {ET.tostring(root)!r}"
    return found.text or ""


def subcode(root: ET.Element) -> str:
    return text(root, "Subcode/{*}Value")


def notifications(root: ET.Element) -> list[tuple[str, str, str]]:
    """Return (topic, PropertyOperation, value) of each message of a PullMessagesResponse."""
    seen = []
    for message in root.iter(f"{{{NAMESPACES['wsnt']}}}NotificationMessage"):
        inner = message.find(".//{*}Message/{*}Message")
        assert inner is not None
        value = inner.find("{*}Data/{*}SimpleItem")
        assert value is not None
        operation = inner.get("PropertyOperation", "")
        seen.append((text(message, "Topic"), operation, value.get("Value", "")))
    return seen


def lifetime(root: ET.Element) -> float:
    termination = datetime.fromisoformat(text(root, "TerminationTime"))
    return (termination - datetime.fromisoformat(text(root, "CurrentTime"))).total_seconds()


async def subscribe(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, termination: str = "PT60S"
) -> str:
    body = (
        "<tev:CreatePullPointSubscription><tev:InitialTerminationTime>"
        f"{termination}</tev:InitialTerminationTime></tev:CreatePullPointSubscription>"
    )
    status, root = await call(session, doorbell, EVENT_PATH, body)
    assert status == 200
    return text(root, "Address")


async def pull(
    session: aiohttp.ClientSession,
    doorbell: VirtualDoorbell,
    address: str,
    wait: str = "PT5S",
    limit: int = 100,
) -> tuple[int, ET.Element]:
    body = (
        f"<tev:PullMessages><tev:Timeout>{wait}</tev:Timeout>"
        f"<tev:MessageLimit>{limit}</tev:MessageLimit></tev:PullMessages>"
    )
    return await call(session, doorbell, address, body)


async def drained(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, termination: str = "PT60S"
) -> str:
    """Subscribe and take the `Initialized` messages."""
    address = await subscribe(session, doorbell, termination)
    status, root = await pull(session, doorbell, address)
    assert status == 200
    assert {operation for _, operation, _ in notifications(root)} == {"Initialized"}
    return address


async def waiting_pull(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> asyncio.Task[tuple[int, ET.Element]]:
    """Subscribe, take the `Initialized` messages, and start a pull that may wait a minute.

    Return it once it waits for messages (it has cleared its wake-up).
    """
    address = await drained(session, doorbell)
    waiting = asyncio.create_task(pull(session, doorbell, address, wait="PT60S"))
    await wait_for(lambda: not next(iter(onvif(doorbell).events)).wakeup.is_set())
    return waiting


# The device service and WS-Security.


async def test_clock_is_answered_without_credentials(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    onvif(doorbell).clock_offset = 7200
    body = "<tds:GetSystemDateAndTime/>"
    status, root = await call(session, doorbell, DEVICE_PATH, body, header=None)
    assert status == 200
    utc = root.find(".//{*}UTCDateTime")
    assert utc is not None
    year, month, day, hour, minute, second = (
        int(text(utc, name)) for name in ("Year", "Month", "Day", "Hour", "Minute", "Second")
    )
    shown = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    assert abs(shown - datetime.now(UTC) - timedelta(hours=2)) < timedelta(minutes=1)


async def test_device_information(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    status, root = await call(session, doorbell, DEVICE_PATH, "<tds:GetDeviceInformation/>")
    assert status == 200
    assert text(root, "Manufacturer") == "Reolink"
    assert text(root, "Model") == "Reolink Video Doorbell PoE"
    assert text(root, "FirmwareVersion") == doorbell.state.firmware
    assert text(root, "SerialNumber") == doorbell.state.serial
    assert text(root, "HardwareId")
    status, root = await call(session, doorbell, DEVICE_PATH, "<tds:GetNetworkInterfaces/>")
    assert text(root, "HwAddress") == doorbell.state.mac.lower()


@pytest.mark.parametrize(
    "options",
    [
        {"password": "wrong"},
        {"username": "intruder"},
        {"skew": 300},
        {"skew": -300},
        {"nonce": ""},
        {"nonce": "not base64!"},
        {"created": "yesterday"},
        {"plain": True, "password": "wrong"},
    ],
)
async def test_ws_security_refused(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, options: dict[str, object]
) -> None:
    header = token(doorbell, **options)  # type: ignore[arg-type]
    status, root = await call(session, doorbell, DEVICE_PATH, "<tds:GetDeviceInformation/>", header)
    assert (status, subcode(root)) == (400, "ter:NotAuthorized")
    assert "Sender not Authorized" in text(root, "Text")


async def test_ws_security_accepted(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    body = "<tds:GetDeviceInformation/>"
    plus = xml_time(onvif(doorbell).now()).replace("Z", "+00:00")  # onvif-zeep-async 4.0
    naive = xml_time(onvif(doorbell).now()).removesuffix("Z")
    for header in (
        token(doorbell, skew=10),
        token(doorbell, plain=True),
        token(doorbell, created=plus),
        token(doorbell, created=naive),
    ):
        assert (await call(session, doorbell, DEVICE_PATH, body, header))[0] == 200
    status, root = await call(session, doorbell, DEVICE_PATH, body, header=None)
    assert (status, subcode(root)) == (400, "ter:NotAuthorized")


async def test_ws_security_follows_the_device_clock(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    body = "<tds:GetDeviceInformation/>"
    ours = xml_time(datetime.now(UTC))
    assert (await call(session, doorbell, DEVICE_PATH, body, token(doorbell, created=ours)))[
        0
    ] == 200
    onvif(doorbell).clock_offset = -7200
    status, root = await call(session, doorbell, DEVICE_PATH, body, token(doorbell, created=ours))
    assert (status, subcode(root)) == (400, "ter:NotAuthorized")
    # The token helper signs on the device's clock: accepted.
    assert (await call(session, doorbell, DEVICE_PATH, body))[0] == 200


async def test_refuse_auth(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    await doorbell.fault("refuse_auth")
    status, root = await call(session, doorbell, DEVICE_PATH, "<tds:GetDeviceInformation/>")
    assert (status, subcode(root)) == (400, "ter:NotAuthorized")
    doorbell.clear_faults()
    assert (await call(session, doorbell, DEVICE_PATH, "<tds:GetDeviceInformation/>"))[0] == 200


@pytest.mark.parametrize("advertised", [None, "192.0.2.10"])
async def test_service_addresses(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, advertised: str | None
) -> None:
    onvif(doorbell).advertised_host = advertised
    base = f"http://{advertised or doorbell.host}:{doorbell.http_port}"
    body = "<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>"
    _, root = await call(session, doorbell, DEVICE_PATH, body)
    addresses = [element.text for element in root.iter(f"{{{NAMESPACES['tt']}}}XAddr")]
    assert addresses == [base + DEVICE_PATH, base + EVENT_PATH, base + MEDIA_PATH]
    assert text(root, "WSPullPointSupport") == "true"
    body = "<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>"
    _, root = await call(session, doorbell, DEVICE_PATH, body)
    services = {
        text(service, "Namespace"): text(service, "XAddr")
        for service in root.iter(f"{{{NAMESPACES['tds']}}}Service")
    }
    assert services == {
        NAMESPACES["tds"]: base + DEVICE_PATH,
        NAMESPACES["trt"]: base + MEDIA_PATH,
        NAMESPACES["tev"]: base + EVENT_PATH,
    }


# The media service, the snapshot and RTSP.


async def test_profiles_and_stream_uris(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    _, root = await call(session, doorbell, MEDIA_PATH, "<trt:GetProfiles/>")
    tokens = [profile.get("token") for profile in root.iter(f"{{{NAMESPACES['trt']}}}Profiles")]
    assert tokens == ["000", "001"]
    for subtype, profile in enumerate(tokens):
        body = (
            f"<trt:GetStreamUri><trt:ProfileToken>{profile}</trt:ProfileToken></trt:GetStreamUri>"
        )
        _, root = await call(session, doorbell, MEDIA_PATH, body)
        assert text(root, "Uri") == doorbell.rtsp_url(subtype, credentials=False)
    body = "<trt:GetStreamUri><trt:ProfileToken>999</trt:ProfileToken></trt:GetStreamUri>"
    status, root = await call(session, doorbell, MEDIA_PATH, body)
    assert (status, subcode(root)) == (400, "ter:NoProfile")


@pytest.mark.parametrize(
    ("subtype", "path"), [(0, "/h264Preview_01_main"), (1, "/h264Preview_01_sub")]
)
async def test_rtsp_paths_decode(doorbell: VirtualDoorbell, subtype: int, path: str) -> None:
    url = doorbell.rtsp_url(subtype)
    assert url.endswith(path)
    width, height = await asyncio.to_thread(first_picture, url)
    assert (width, height) == ((320, 240) if subtype == 0 else (106, 80))
    assert doorbell.personality.rtsp_source("/h264Preview_01_third", {}) is None


async def test_snapshot(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    body = "<trt:GetSnapshotUri><trt:ProfileToken>000</trt:ProfileToken></trt:GetSnapshotUri>"
    _, root = await call(session, doorbell, MEDIA_PATH, body)
    uri = text(root, "Uri")
    assert uri == f"{doorbell.url}/cgi-bin/api.cgi?cmd=onvifSnapPic&channel=0"
    async with session.get(uri) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Digest ")
    digest = aiohttp.DigestAuthMiddleware(doorbell.username, doorbell.password)
    async with session.get(uri, middlewares=(digest,)) as response:
        assert response.status == 200
        assert (await response.read()).startswith(b"\xff\xd8")
    async with session.get(uri.replace("channel=0", "channel=1"), middlewares=(digest,)) as answer:
        assert answer.status == 400
    await doorbell.fault("refuse_auth")
    async with session.get(uri, middlewares=(digest,)) as response:
        assert response.status == 401


# The event service and PullPoint subscriptions.


@pytest.mark.parametrize("has_person", [True, False])
async def test_event_properties(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, has_person: bool
) -> None:
    doorbell.state.model = dataclasses.replace(doorbell.state.model, has_person=has_person)
    _, root = await call(session, doorbell, EVENT_PATH, "<tev:GetEventProperties/>")
    topic_set = root.find(".//{*}TopicSet")
    assert topic_set is not None
    leaves = {
        element.tag
        for element in topic_set.iter()
        if element.get(f"{{{NAMESPACES['wstop']}}}topic")
    }
    expected = {"Visitor", "MotionAlarm", "Motion"} | ({"PeopleDetect"} if has_person else set())
    assert leaves == expected
    assert doorbell.person(True) is has_person


async def test_pullpoint_flow(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    onvif(doorbell).visitor_hold = 0.05
    address = await subscribe(session, doorbell)
    assert address == f"{doorbell.url}{SUBSCRIPTION_PATH}?Idx=1"
    assert doorbell.state.counters.event_clients == 1
    # MessageLimit is honoured: the four Initialized states come two by two.
    _, root = await pull(session, doorbell, address, limit=2)
    first = notifications(root)
    _, root = await pull(session, doorbell, address, limit=2)
    assert first + notifications(root) == [
        ("tns1:RuleEngine/MyRuleDetector/Visitor", "Initialized", "false"),
        ("tns1:VideoSource/MotionAlarm", "Initialized", "false"),
        ("tns1:RuleEngine/CellMotionDetector/Motion", "Initialized", "false"),
        ("tns1:RuleEngine/MyRuleDetector/PeopleDetect", "Initialized", "false"),
    ]
    doorbell.press()
    _, root = await pull(session, doorbell, address)
    assert notifications(root) == [("tns1:RuleEngine/MyRuleDetector/Visitor", "Changed", "true")]
    _, root = await pull(session, doorbell, address)
    assert notifications(root) == [("tns1:RuleEngine/MyRuleDetector/Visitor", "Changed", "false")]
    doorbell.motion(True)
    assert doorbell.person(True)
    _, root = await pull(session, doorbell, address)
    assert notifications(root) == [
        ("tns1:VideoSource/MotionAlarm", "Changed", "true"),
        ("tns1:RuleEngine/CellMotionDetector/Motion", "Changed", "true"),
        ("tns1:RuleEngine/MyRuleDetector/PeopleDetect", "Changed", "true"),
    ]
    cell = root.findall(".//{*}Source/{*}SimpleItem")[1:4]
    assert [item.get("Name") for item in cell] == [
        "VideoSourceConfigurationToken",
        "VideoAnalyticsConfigurationToken",
        "Rule",
    ]
    # A new subscription starts from the current states.
    second = await subscribe(session, doorbell)
    _, root = await pull(session, doorbell, second)
    assert [value for _, _, value in notifications(root)] == ["false", "true", "true", "true"]
    assert doorbell.state.counters.event_clients_total == 2


async def test_pull_waits_for_a_message(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    waiting = await waiting_pull(session, doorbell)
    doorbell.motion(True)
    status, root = await waiting
    assert status == 200
    assert notifications(root)[0] == ("tns1:VideoSource/MotionAlarm", "Changed", "true")


async def test_pull_answers_empty_at_its_timeout(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    address = await drained(session, doorbell)
    status, root = await pull(session, doorbell, address, wait="PT0.2S")
    assert status == 200
    assert notifications(root) == []
    assert 59 <= lifetime(root) <= 60


async def test_subscription_expires(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    address = await subscribe(session, doorbell, "PT1S")
    await wait_for(lambda: doorbell.state.counters.event_clients == 0)
    status, root = await pull(session, doorbell, address)
    assert (status, subcode(root)) == (400, "wsrf-r:ResourceUnknownFault")


async def test_renew(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    address = await subscribe(session, doorbell, "PT1S")
    body = "<wsnt:Renew><wsnt:TerminationTime>PT60S</wsnt:TerminationTime></wsnt:Renew>"
    status, root = await call(session, doorbell, address, body)
    assert (status, lifetime(root)) == (200, 60)
    absolute = xml_time(onvif(doorbell).now() + timedelta(seconds=120))
    body = f"<wsnt:Renew><wsnt:TerminationTime>{absolute}</wsnt:TerminationTime></wsnt:Renew>"
    _, root = await call(session, doorbell, address, body)
    assert 118 <= lifetime(root) <= 120
    assert onvif(doorbell).events.renewals == 2


async def test_unsubscribe(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    address = await subscribe(session, doorbell)
    status, _ = await call(session, doorbell, address, "<wsnt:Unsubscribe/>")
    assert (status, doorbell.state.counters.event_clients) == (200, 0)
    for body in ("<wsnt:Unsubscribe/>", "<wsnt:Renew/>", "<tev:PullMessages/>"):
        status, root = await call(session, doorbell, address, body)
        assert (status, subcode(root)) == (400, "wsrf-r:ResourceUnknownFault")


async def test_drop_events_faults_a_waiting_pull(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    waiting = await waiting_pull(session, doorbell)
    await doorbell.fault("drop_events")
    status, root = await waiting
    assert (status, subcode(root)) == (400, "wsrf-r:ResourceUnknownFault")


async def test_reboot_ends_subscriptions(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    address = await drained(session, doorbell)
    await doorbell.fault("reboot", 0.3)
    assert doorbell.state.counters.event_clients == 0
    with pytest.raises(aiohttp.ClientError):
        await pull(session, doorbell, address)
    await wait_for(lambda: not doorbell.state.faults.rebooting)
    status, root = await pull(session, doorbell, address)
    assert (status, subcode(root)) == (400, "wsrf-r:ResourceUnknownFault")


async def test_stall_holds_the_answer(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    address = await drained(session, doorbell)
    await doorbell.fault("stall")
    doorbell.press()
    waiting = asyncio.create_task(pull(session, doorbell, address))
    done, _ = await asyncio.wait({waiting}, timeout=0.5)
    assert not done
    doorbell.clear_faults()
    status, root = await waiting
    assert status == 200
    assert notifications(root) == [("tns1:RuleEngine/MyRuleDetector/Visitor", "Changed", "true")]


async def test_garbage_once(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    address = await drained(session, doorbell)
    await doorbell.fault("garbage")
    doorbell.press()
    data = (
        f"<env:Envelope {DECLARATIONS}>{token(doorbell)}<env:Body><tev:PullMessages>"
        "<tev:Timeout>PT1S</tev:Timeout><tev:MessageLimit>10</tev:MessageLimit>"
        "</tev:PullMessages></env:Body></env:Envelope>"
    )
    async with session.post(address, data=data.encode()) as response:
        assert response.status == 200
        with pytest.raises(ET.ParseError):
            parse(await response.read())
    _, root = await pull(session, doorbell, address)
    assert notifications(root) == [("tns1:RuleEngine/MyRuleDetector/Visitor", "Changed", "true")]


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        (DEVICE_PATH, "<tds:Reboot/>", 500, "ter:ActionNotSupported"),
        (EVENT_PATH, "<tev:PullMessages/>", 500, "ter:ActionNotSupported"),
        (SUBSCRIPTION_PATH, "<tev:PullMessages/>", 400, "wsrf-r:ResourceUnknownFault"),
        (
            EVENT_PATH,
            "<tev:CreatePullPointSubscription><tev:InitialTerminationTime>soon"
            "</tev:InitialTerminationTime></tev:CreatePullPointSubscription>",
            400,
            "ter:InvalidArgVal",
        ),
    ],
)
async def test_soap_faults(
    session: aiohttp.ClientSession,
    doorbell: VirtualDoorbell,
    path: str,
    body: str,
    status: int,
    code: str,
) -> None:
    answer, root = await call(session, doorbell, path, body)
    assert (answer, subcode(root)) == (status, code)


async def test_bad_message_limit(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    address = await subscribe(session, doorbell)
    body = "<tev:PullMessages><tev:MessageLimit>many</tev:MessageLimit></tev:PullMessages>"
    status, root = await call(session, doorbell, address, body)
    assert (status, subcode(root)) == (400, "ter:InvalidArgVal")


@pytest.mark.parametrize(
    "data",
    [b"<not-xml", b"<a/>", f"<env:Envelope {DECLARATIONS}><env:Body/></env:Envelope>".encode()],
)
async def test_malformed_requests(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, data: bytes
) -> None:
    async with session.post(doorbell.url + DEVICE_PATH, data=data) as response:
        assert response.status == 400
        assert subcode(parse(await response.read())) == "ter:WellFormed"


async def test_settings_route(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    url = f"{doorbell.url}/sim/onvif"
    changes = {"clock_offset": "60", "advertised_host": "10.1.1.1", "stream_uri": "udp://x"}
    async with session.post(url, params={**changes, "time_zone": "+99:00"}) as r:
        assert await r.json() == {
            "clock_offset": 60.0,
            "advertised_host": "10.1.1.1",
            "stream_uri": "udp://x",
            "time_zone": "+99:00",
        }
    reset = {"advertised_host": "", "stream_uri": "", "time_zone": ""}
    async with session.post(url, params=reset) as r:
        assert await r.json() == {
            "clock_offset": 60.0,
            "advertised_host": None,
            "stream_uri": None,
            "time_zone": "Z",
        }
    async with session.post(url, params={"clock_offset": "later"}) as r:
        assert r.status == 400


async def test_stream_uri_the_device_names(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    body = "<trt:GetStreamUri><trt:ProfileToken>000</trt:ProfileToken></trt:GetStreamUri>"
    onvif(doorbell).stream_uri = "http://10.0.0.9/live.m3u8?a=1&b=2"
    _, root = await call(session, doorbell, MEDIA_PATH, body)
    assert text(root, "Uri") == "http://10.0.0.9/live.m3u8?a=1&b=2"
    onvif(doorbell).stream_uri = ""
    status, root = await call(session, doorbell, MEDIA_PATH, body)
    assert status == 200
    assert root.find(".//{*}GetStreamUriResponse/{*}MediaUri") is None


async def test_subscription_times_with_an_offset(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    onvif(doorbell).events.time_zone = "+99:00"
    _, root = await call(session, doorbell, EVENT_PATH, "<tev:CreatePullPointSubscription/>")
    assert text(root, "CurrentTime").endswith("+99:00")
    assert text(root, "TerminationTime").endswith("+99:00")


async def test_deep_nesting_once(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    address = await drained(session, doorbell)
    await doorbell.fault("deep_nesting")
    status, root = await pull(session, doorbell, address)
    assert status == 200
    assert len(list(root.iter("a"))) == 1000
    doorbell.press()
    _, root = await pull(session, doorbell, address)
    assert notifications(root) == [("tns1:RuleEngine/MyRuleDetector/Visitor", "Changed", "true")]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, 7.0),
        ("PT60S", 60.0),
        ("PT1M30S", 90.0),
        ("PT0.5S", 0.5),
        ("P1DT1H", 90000.0),
        ("2026-01-01T00:01:00Z", 60.0),
        ("2026-01-01T00:01:00", 60.0),
    ],
)
def test_seconds_until(value: str | None, seconds: float) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert seconds_until(value, now, 7.0) == seconds


@pytest.mark.parametrize("value", ["P", "PT", "soon"])
def test_seconds_until_refuses(value: str) -> None:
    with pytest.raises(SoapFault, match="Not a time"):
        seconds_until(value, datetime(2026, 1, 1, tzinfo=UTC), 7.0)
