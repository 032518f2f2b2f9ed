"""The egress guard at work: names are checked on every connection, redirects not followed."""

from __future__ import annotations

from collections.abc import AsyncIterator
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
import av
from homeassistant.components.camera import async_request_stream, get_camera_from_entity_id
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_USERNAME,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.local_doorbell.const import (
    CONF_RTSP_PORT,
    CONF_SNAPSHOT_URL,
    CONF_STREAM_URL,
    DOMAIN,
)
from tests.helpers.generic import camera_input
from tests.helpers.servers import serving
from virtual_doorbell import VirtualDoorbell

from ..conftest import RedirectingRtsp
from .conftest import (
    FAST_RECORDING,
    current,
    entity_id,
    entry_data,
    set_up_entry,
    start_flow,
    wait_for,
)

NAME = "doorbell.lan"


class FakeDns:
    """What the harness lacks: a resolver for one name whose answer the test changes.

    Names are compared as Python's resolver sends them, IDNA 2003: "faß.lan" is "fass.lan".
    """

    def __init__(
        self, hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, name: str = NAME
    ) -> None:
        self.address = "127.0.0.1"
        self.lookups = 0
        original = hass.loop.getaddrinfo

        async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[tuple[object, ...]]:
            if host.encode("idna") != name.encode("idna"):
                return list(await original(host, port, **kwargs))
            self.lookups += 1
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (self.address, port))]

        monkeypatch.setattr(hass.loop, "getaddrinfo", getaddrinfo)


async def test_a_name_that_turns_public_is_refused_at_reconnect(
    hass: HomeAssistant, doorbell: VirtualDoorbell, monkeypatch: pytest.MonkeyPatch
) -> None:
    dns = FakeDns(hass, monkeypatch)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=doorbell.state.serial,
        data={
            CONF_HOST: NAME,
            CONF_PORT: doorbell.http_port,
            CONF_USERNAME: doorbell.username,
            CONF_PASSWORD: doorbell.password,
        },
        options=FAST_RECORDING,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(lambda: doorbell.state.counters.event_clients == 1)
    # FFmpeg gets loopback addresses (the relay's, the restream's), never the name.
    assert urlsplit(entry.runtime_data.live.url).hostname == "127.0.0.1"
    event = entity_id(hass, "event", doorbell.state.serial, "doorbell")
    lookups = dns.lookups
    dns.address = "203.0.113.7"  # the name now points out of the house
    await doorbell.fault("drop_events")
    await wait_for(lambda: current(hass, event).state == STATE_UNAVAILABLE)
    issue_id = f"egress_refused_{entry.entry_id}"
    await wait_for(lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None)
    assert dns.lookups > lookups  # resolved again at the reconnect, not cached
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"host": NAME, "address": "203.0.113.7"}
    # The run-wide connect recorder fails the run if 203.0.113.7 was ever tried.


async def test_the_config_flow_checks_names_too(
    hass: HomeAssistant, doorbell: VirtualDoorbell, monkeypatch: pytest.MonkeyPatch
) -> None:
    dns = FakeDns(hass, monkeypatch)
    dns.address = "198.51.100.20"
    result = await hass.config_entries.flow.async_configure(
        await start_flow(hass),
        {
            CONF_HOST: NAME,
            CONF_PORT: doorbell.http_port,
            CONF_USERNAME: "admin",
            CONF_PASSWORD: doorbell.password,
        },
    )
    assert result["errors"] == {"base": "not_local"}


@pytest.fixture
async def redirecting_device(socket_enabled: None) -> AsyncIterator[int]:
    """A device that answers every request with a redirect to a public host."""

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://203.0.113.9/cgi-bin/magicBox.cgi?action=getDeviceType")

    async with serving(redirect) as port:
        yield port


async def test_redirects_are_not_followed(hass: HomeAssistant, redirecting_device: int) -> None:
    result = await hass.config_entries.flow.async_configure(
        await start_flow(hass),
        {
            CONF_HOST: "127.0.0.1",
            CONF_PORT: redirecting_device,
            CONF_USERNAME: "admin",
            CONF_PASSWORD: "x",
        },
    )
    assert result["errors"] == {"base": "cannot_connect"}


@pytest.fixture
def opened_urls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every network URL anything (ours, Home Assistant's stream) hands PyAV to open."""
    urls: list[str] = []
    original = av.open

    def spy(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str) and "://" in file:  # not the recorder's files
            urls.append(file)
        return original(file, *args, **kwargs)

    monkeypatch.setattr(av, "open", spy)
    return urls


@pytest.mark.parametrize("name", [NAME, "faß.lan"])
async def test_ffmpeg_is_handed_only_the_loopback_relay(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    monkeypatch: pytest.MonkeyPatch,
    opened_urls: list[str],
    name: str,
) -> None:
    """A camera named by host name: FFmpeg never resolves it, so it cannot resolve it otherwise."""
    FakeDns(hass, monkeypatch, name)
    data = camera_input(
        doorbell, **{CONF_STREAM_URL: doorbell.rtsp_url().replace("127.0.0.1", name)}
    )
    del data[CONF_SNAPSHOT_URL]
    result = await hass.config_entries.flow.async_configure(await start_flow(hass, "generic"), data)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    clips = result["result"].runtime_data.clips
    await wait_for(lambda: clips.latest_jpeg() is not None)  # recording through the relay
    assert len(opened_urls) >= 2  # the probe, then the recorder
    assert {urlsplit(url).hostname for url in opened_urls} == {"127.0.0.1"}
    assert all(urlsplit(url).port != doorbell.rtsp_port for url in opened_urls)


# Home Assistant's stream leaves its idle timer scheduled after stop(); that is its own.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_rtsp_redirects_are_followed_by_nothing(
    hass: HomeAssistant, doorbell: VirtualDoorbell, redirecting_rtsp: RedirectingRtsp
) -> None:
    """The recorder and live view meet a device that redirects elsewhere."""
    entry = await set_up_entry(
        hass, doorbell, data={**entry_data(doorbell), CONF_RTSP_PORT: redirecting_rtsp.port}
    )
    await wait_for(lambda: len(redirecting_rtsp.requests) >= 1)  # the recorder's ingest
    assert redirecting_rtsp.elsewhere == []

    assert await async_setup_component(hass, "stream", {})
    camera_id = entity_id(hass, "camera", doorbell.state.serial, "camera")
    camera = get_camera_from_entity_id(hass, camera_id)
    try:
        await async_request_stream(hass, camera_id, "hls")
        assert camera.stream is not None
        await wait_for(lambda: camera.stream is not None and not camera.stream.available)
    finally:
        if camera.stream is not None:
            await camera.stream.stop()
    assert redirecting_rtsp.elsewhere == []
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_the_generic_probe_follows_no_rtsp_redirect(
    hass: HomeAssistant, doorbell: VirtualDoorbell, redirecting_rtsp: RedirectingRtsp
) -> None:
    url = f"rtsp://admin:x@127.0.0.1:{redirecting_rtsp.port}/live"
    result = await hass.config_entries.flow.async_configure(
        await start_flow(hass, "generic"), camera_input(doorbell, **{CONF_STREAM_URL: url})
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert redirecting_rtsp.requests
    assert redirecting_rtsp.elsewhere == []
