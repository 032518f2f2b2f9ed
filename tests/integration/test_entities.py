"""Entities fed by the virtual doorbell: ring, motion, person, camera, diagnostics."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from homeassistant.components.camera import (
    async_get_image,
    async_get_stream_source,
    get_camera_from_entity_id,
)
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from virtual_doorbell import VirtualDoorbell

from .conftest import current, entity_id, wait_for

QUIRKS = ["none", "coalesce_parts", "split_parts", "stray_http_line", "content_length_space"]


@pytest.mark.parametrize("doorbell_model", ["AD110", "AD410", "DB61i", "VTO"])
@pytest.mark.parametrize("quirk", QUIRKS)
async def test_press_fires_ring(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry, quirk: str
) -> None:
    if quirk == "content_length_space":
        doorbell.state.quirks.content_length_space = not doorbell.state.model.spaced_content_length
    elif quirk != "none":
        setattr(doorbell.state.quirks, quirk, True)
    event_entity = entity_id(hass, "event", doorbell.state.serial, "doorbell")
    state = current(hass, event_entity)
    assert state.state == STATE_UNKNOWN
    assert state.attributes["device_class"] == "doorbell"
    assert state.attributes["event_types"] == ["ring"]
    doorbell.press()
    await wait_for(lambda: current(hass, event_entity).state != STATE_UNKNOWN)
    state = current(hass, event_entity)
    assert state.attributes["event_type"] == "ring"
    # One press is one ring, even where the firmware sends two codes for it.
    first = state.state
    await hass.async_block_till_done()
    assert current(hass, event_entity).state == first


async def test_motion_and_person(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    motion = entity_id(hass, "binary_sensor", doorbell.state.serial, "motion")
    person = entity_id(hass, "binary_sensor", doorbell.state.serial, "person")
    assert current(hass, motion).state == STATE_OFF
    doorbell.motion(True)
    await wait_for(lambda: current(hass, motion).state == STATE_ON)
    doorbell.person(True)
    await wait_for(lambda: current(hass, person).state == STATE_ON)
    doorbell.motion(False)
    doorbell.person(False)
    await wait_for(lambda: current(hass, motion).state == STATE_OFF)
    await wait_for(lambda: current(hass, person).state == STATE_OFF)


@pytest.mark.parametrize("doorbell_model", ["AD110"])
async def test_no_person_sensor_where_the_model_has_none(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    with pytest.raises(AssertionError):
        entity_id(hass, "binary_sensor", doorbell.state.serial, "person")


async def test_garbage_is_logged_and_survived(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.local_doorbell")
    event_entity = entity_id(hass, "event", doorbell.state.serial, "doorbell")
    await doorbell.fault("garbage")
    doorbell.press()
    await wait_for(lambda: current(hass, event_entity).attributes.get("event_type") == "ring")
    assert "custom_components.local_doorbell" in caplog.text


async def test_camera_stream_source_and_image(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    camera = entity_id(hass, "camera", doorbell.state.serial, "camera")
    source = await async_get_stream_source(hass, camera)
    # The restream on loopback, with its own credential, read only interleaved in TCP.
    assert source is not None
    assert source == entry.runtime_data.live.url
    parts = urlsplit(source)
    assert (parts.hostname, parts.path) == ("127.0.0.1", "/live")
    assert parts.port != doorbell.rtsp_port
    assert doorbell.password not in source
    assert get_camera_from_entity_id(hass, camera).stream_options == {"rtsp_transport": "tcp"}
    image = await async_get_image(hass, camera)
    assert image.content_type == "image/jpeg"
    assert image.content.startswith(b"\xff\xd8")


async def test_camera_image_error_is_translated(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    camera = entity_id(hass, "camera", doorbell.state.serial, "camera")
    await doorbell.fault("refuse_auth")
    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, camera)


async def test_diagnostics_are_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
) -> None:
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = str(diagnostics)
    for secret in (doorbell.password, doorbell.state.serial, doorbell.rtsp_url(0)):
        assert secret not in text
    assert diagnostics["device"]["model"] == "AD410"
    assert diagnostics["connected"] is True
