"""A doorbell that answers to hurt, through Home Assistant: translated errors, no credentials."""

from __future__ import annotations

import logging

from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.local_doorbell.const import CONF_PROTOCOL, CONF_RTSP_PORT, DOMAIN
from custom_components.local_doorbell.devices.dahua_events import EventMapper
from tests.helpers.drivers import onvif
from tests.helpers.secrets import leaks
from virtual_doorbell import VirtualDoorbell

from .conftest import (
    current,
    entity_id,
    entry_data,
    mock_entry,
    start_flow,
    wait_for,
)

PROTOCOLS = {"AD410": "dahua", "D101": "doorbird", "ReolinkDoorbell": "onvif"}


async def flow_error(hass: HomeAssistant, doorbell: VirtualDoorbell) -> str:
    """Enter the doorbell in the config flow; return the error the form shows."""
    flow_id = await start_flow(hass)
    data = {**entry_data(doorbell), CONF_RTSP_PORT: doorbell.rtsp_port}
    result = await hass.config_entries.flow.async_configure(flow_id, data)
    assert result["type"] is FlowResultType.FORM
    errors = result["errors"]
    assert errors is not None
    return errors["base"]


async def set_up(hass: HomeAssistant, doorbell: VirtualDoorbell) -> MockConfigEntry:
    """Add an entry for the doorbell and try to set it up."""
    data = {
        **entry_data(doorbell),
        CONF_PROTOCOL: PROTOCOLS[doorbell.state.model.name],
        CONF_RTSP_PORT: doorbell.rtsp_port,
    }
    entry = mock_entry(hass, doorbell, data=data, minor_version=2)
    await hass.config_entries.async_setup(entry.entry_id)
    return entry


@pytest.mark.parametrize("doorbell_model", ["ReolinkDoorbell"])
async def test_a_stream_that_is_not_rtsp_is_refused(
    hass: HomeAssistant, doorbell: VirtualDoorbell
) -> None:
    onvif(doorbell).stream_uri = "http://127.0.0.1/live.m3u8"
    assert await flow_error(hass, doorbell) == "unsupported_stream"
    entry = await set_up(hass, doorbell)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "unsupported_stream"
    placeholders = {"host": "127.0.0.1", "scheme": "http"}
    assert entry.error_reason_translation_placeholders == placeholders
    issue_id = f"unsupported_stream_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == placeholders
    # The owner turns RTSP on: the next try sets the doorbell up, and the notice goes.
    onvif(doorbell).stream_uri = None
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("doorbell_model", ["D101", "ReolinkDoorbell"])
async def test_answers_no_parser_can_take(
    hass: HomeAssistant, doorbell: VirtualDoorbell, doorbell_model: str
) -> None:
    # DoorBird's info.cgi nested too deep; ONVIF's GetStreamUri answered with nothing.
    if doorbell_model == "D101":
        await doorbell.fault("deep_nesting")
    else:
        onvif(doorbell).stream_uri = ""
    assert await flow_error(hass, doorbell) == "cannot_connect"
    entry = await set_up(hass, doorbell)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "cannot_connect"


@pytest.mark.parametrize("doorbell_model", list(PROTOCOLS))
async def test_no_credential_reaches_the_owner_or_the_log(
    hass: HomeAssistant, doorbell: VirtualDoorbell, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await doorbell.fault("malformed_status")
    assert await flow_error(hass, doorbell) == "cannot_connect"
    entry = await set_up(hass, doorbell)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    shown = [caplog.text, str(entry.reason), str(entry.error_reason_translation_placeholders)]
    # Set up, then the device turns hostile: the cloud check, the picture, the events.
    doorbell.clear_faults()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await doorbell.fault("malformed_status")
    await entry.runtime_data.coordinator.async_enforce_cloud_off()
    camera = entity_id(hass, "camera", entry.runtime_data.identity.serial, "camera")
    with pytest.raises(HomeAssistantError) as raised:
        await async_get_image(hass, camera)
    await doorbell.fault("drop_events")
    await wait_for(lambda: current(hass, camera).state == STATE_UNAVAILABLE, 20)
    issues = [str(issue.translation_placeholders) for issue in ir.async_get(hass).issues.values()]
    states = [str(state.as_dict()) for state in hass.states.async_all()]
    shown += [caplog.text, str(raised.value), *issues, *states]
    text = "\n".join(shown)
    assert "ClientResponseError" in text  # the malformed answers were read
    assert leaks(text, doorbell) == []
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_an_unexpected_error_costs_a_reconnect_not_the_events(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A bug in the parser, triggered by motion: the entities go unavailable, then come back.
    parse = EventMapper.map

    def fails_on_motion(self: EventMapper, body: str) -> object:
        if "VideoMotion" in body:
            monkeypatch.undo()
            raise RuntimeError("a bug")
        return parse(self, body)

    monkeypatch.setattr(EventMapper, "map", fails_on_motion)
    ring = entity_id(hass, "event", doorbell.state.serial, "doorbell")
    attached = doorbell.state.counters.event_clients_total
    doorbell.motion(True)
    await wait_for(lambda: current(hass, ring).state == STATE_UNAVAILABLE)
    await wait_for(lambda: current(hass, ring).state != STATE_UNAVAILABLE, 20)
    assert doorbell.state.counters.event_clients_total == attached + 1
    doorbell.press()
    await wait_for(lambda: current(hass, ring).attributes.get("event_type") == "ring")
    assert entry.state is ConfigEntryState.LOADED
