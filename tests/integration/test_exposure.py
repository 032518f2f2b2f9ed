"""Cloud voice assistants: the doorbell's sensitive entities start unexposed and stay watched."""

from __future__ import annotations

from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
    async_should_expose,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.local_doorbell.const import DOMAIN
from virtual_doorbell import VirtualDoorbell

from .conftest import entity_id, set_up_entry

ASSISTANTS = ("cloud.alexa", "cloud.google_assistant")


@pytest.fixture
async def assistants(hass: HomeAssistant) -> None:
    """Load Home Assistant's own integration, which keeps the exposure settings."""
    assert await async_setup_component(hass, "homeassistant", {})


async def _setup(hass: HomeAssistant, doorbell: VirtualDoorbell) -> MockConfigEntry:
    return await set_up_entry(hass, doorbell)


async def test_sensitive_entities_start_unexposed(
    hass: HomeAssistant, assistants: None, doorbell: VirtualDoorbell
) -> None:
    await _setup(hass, doorbell)
    serial = doorbell.state.serial
    sensitive = [
        entity_id(hass, "camera", serial, "camera"),
        entity_id(hass, "event", serial, "doorbell"),
        entity_id(hass, "binary_sensor", serial, "motion"),
        entity_id(hass, "binary_sensor", serial, "person"),
    ]
    for entity in sensitive:
        for assistant in ASSISTANTS:
            assert not async_should_expose(hass, assistant, entity), (entity, assistant)
    assert not ir.async_get(hass).issues


async def test_exposing_later_raises_a_fixable_issue(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    assistants: None,
    doorbell: VirtualDoorbell,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    await _setup(hass, doorbell)
    camera = entity_id(hass, "camera", doorbell.state.serial, "camera")
    async_expose_entity(hass, "cloud.alexa", camera, True)
    issue_id = f"exposed_to_cloud_{camera}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders == {"entity_id": camera, "assistants": "cloud.alexa"}
    # The fix flow, as the frontend runs it.
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    assert response.status == 200
    flow = await response.json()
    assert flow["step_id"] == "confirm"
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert (await response.json())["type"] == "create_entry"
    assert not async_should_expose(hass, "cloud.alexa", camera)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_the_owners_explicit_choice_survives_a_restart(
    hass: HomeAssistant, assistants: None, doorbell: VirtualDoorbell
) -> None:
    entry = await _setup(hass, doorbell)
    event = entity_id(hass, "event", doorbell.state.serial, "doorbell")
    async_expose_entity(hass, "cloud.google_assistant", event, True)
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert async_should_expose(hass, "cloud.google_assistant", event)
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"exposed_to_cloud_{event}") is not None


async def test_without_assistant_settings_nothing_happens(
    hass: HomeAssistant, doorbell: VirtualDoorbell
) -> None:
    await _setup(hass, doorbell)
    assert not ir.async_get(hass).issues
