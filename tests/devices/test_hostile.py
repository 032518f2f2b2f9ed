"""Devices that answer to hurt: every driver and request, against the simulator's faults.

No message may carry a credential, no answer may grow without bound, and no parser may let
what malformed input raises out of a driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback

import aiohttp
from aiohttp import web
import pytest

from custom_components.local_doorbell.devices.base import (
    CannotConnect,
    DoorbellDevice,
    EventKind,
)
from custom_components.local_doorbell.devices.detect import detect
from custom_components.local_doorbell.devices.generic import GenericDoorbell
from custom_components.local_doorbell.devices.http import MAX_ANSWER, MAX_JPEG, MAX_SOAP
from tests.helpers.drivers import DRIVERS
from tests.helpers.secrets import leaks
from tests.helpers.servers import serving
from virtual_doorbell import VirtualDoorbell

DAHUA, DOORBIRD, ONVIF = "AD410", "D101", "ReolinkDoorbell"
# Every request each driver makes ("generic": the generic camera's snapshot, from a Dahua).
REQUESTS = [
    *[(DAHUA, name) for name in ("probe", "stream_urls", "snapshot", "cloud_enabled")],
    *[(DAHUA, name) for name in ("disable_cloud", "events", "detect", "generic")],
    *[(DOORBIRD, name) for name in ("probe", "snapshot", "events", "detect")],
    *[(ONVIF, name) for name in ("probe", "stream_urls", "snapshot", "events", "detect")],
]


def device_for(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, request: str
) -> DoorbellDevice:
    """Return the driver that makes `request` to the doorbell."""
    if request != "generic":
        return DRIVERS[doorbell.state.model.name].make(session, doorbell)
    credentials = f"{doorbell.username}:{doorbell.password}"
    return GenericDoorbell(
        session,
        stream_url=doorbell.rtsp_url(0),
        snapshot_url=f"http://{credentials}@{doorbell.host}:{doorbell.http_port}"
        "/cgi-bin/snapshot.cgi?channel=1",
        name="Gate",
        serial="GATE01",
    )


async def failure(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell, request: str, fault: str
) -> CannotConnect | None:
    """Make `request` while `fault` lasts; return the error it raised (None for events).

    The event stream must report OFFLINE rather than raise.
    """
    device = device_for(session, doorbell, request)
    if request == "snapshot" and doorbell.state.model.name == ONVIF:
        await device.stream_urls()  # learn the snapshot URI first: the GET is what is tested
    await doorbell.fault(fault)
    if request == "events":
        async with contextlib.aclosing(device.events()) as events, asyncio.timeout(5):
            assert (await anext(events)).kind is EventKind.OFFLINE
        return None
    if request == "detect":
        call = detect(
            session, doorbell.host, doorbell.http_port, doorbell.username, doorbell.password
        )
    else:
        call = getattr(device, "snapshot" if request == "generic" else request)()
    with pytest.raises(CannotConnect) as raised:
        await call
    return raised.value


@pytest.mark.parametrize(("doorbell_model", "request_name"), REQUESTS)
async def test_no_credential_in_any_message(
    session: aiohttp.ClientSession,
    doorbell: VirtualDoorbell,
    doorbell_model: str,
    request_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The device answers the challenge, then a status line aiohttp refuses, with the request
    # (its headers included) attached to the error.
    caplog.set_level(logging.DEBUG)
    error = await failure(session, doorbell, request_name, "malformed_status")
    shown = [caplog.text]
    if error is not None:
        shown += [str(error), repr(error), "".join(traceback.format_exception(error))]
    text = "\n".join(shown)
    assert "ClientResponseError" in text  # the malformed answer was read, and reported
    assert leaks(text, doorbell) == []


@pytest.mark.parametrize(
    ("doorbell_model", "request_name", "limit"),
    [
        (DAHUA, "probe", MAX_ANSWER),
        (DAHUA, "snapshot", MAX_JPEG),
        (DAHUA, "generic", MAX_JPEG),
        (DOORBIRD, "probe", MAX_ANSWER),
        (DOORBIRD, "snapshot", MAX_JPEG),
        (ONVIF, "probe", MAX_SOAP),
        (ONVIF, "snapshot", MAX_JPEG),
    ],
)
async def test_answers_longer_than_their_limit_are_refused(
    session: aiohttp.ClientSession,
    doorbell: VirtualDoorbell,
    doorbell_model: str,
    request_name: str,
    limit: int,
) -> None:
    # The device sends 64 MiB (a JPEG's first bytes, then zeros) to every signed-in request.
    error = await failure(session, doorbell, request_name, "oversized")
    assert f"longer than {limit} bytes" in str(error)


async def test_a_length_announced_past_the_limit_is_refused_unread(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=b"\xff\xd8" + bytes(MAX_JPEG - 1), content_type="image/jpeg")

    async with serving(answer, "/snap.jpg") as port:
        camera = GenericDoorbell(
            session,
            stream_url="rtsp://127.0.0.1/live",
            snapshot_url=f"http://user:pass@127.0.0.1:{port}/snap.jpg",
            name="Gate",
            serial="GATE01",
        )
        with pytest.raises(CannotConnect, match=f"announced an answer of {MAX_JPEG + 1} bytes"):
            await camera.snapshot()


@pytest.mark.parametrize("doorbell_model", [DOORBIRD])
async def test_info_nested_too_deep_is_not_a_doorbird(
    session: aiohttp.ClientSession, doorbell: VirtualDoorbell
) -> None:
    # Python 3.13 raises RecursionError on it, 3.14 (deeper) parses it: neither gets out.
    await doorbell.fault("deep_nesting")
    with pytest.raises(CannotConnect, match="like a DoorBird"):
        await DRIVERS[DOORBIRD].make(session, doorbell).probe()
    with pytest.raises(CannotConnect, match="No supported doorbell"):
        await detect(session, doorbell.host, doorbell.http_port, "admin", doorbell.password)
