"""The egress guard at work: names are checked on every connection, redirects not followed."""

from __future__ import annotations

from collections.abc import AsyncIterator
import socket
from typing import Any

from aiohttp import web
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_USERNAME,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.local_doorbell.const import DOMAIN
from virtual_doorbell import VirtualDoorbell

from .conftest import FAST_RECORDING, current, entity_id, start_flow, wait_for

NAME = "doorbell.lan"


class FakeDns:
    """What the harness lacks: a resolver for one name whose answer the test changes."""

    def __init__(self, hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> None:
        self.address = "127.0.0.1"
        self.lookups = 0
        original = hass.loop.getaddrinfo

        async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[tuple[object, ...]]:
            if host != NAME:
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
    # FFmpeg gets the checked address, never the name.
    assert f"@127.0.0.1:{doorbell.rtsp_port}/" in entry.runtime_data.urls.main
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

    app = web.Application()
    app.router.add_get("/{tail:.*}", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield runner.addresses[0][1]
    await runner.cleanup()


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
