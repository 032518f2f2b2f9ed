"""Device triggers: the automation editor's "Doorbell pressed" and "Motion detected"."""

from __future__ import annotations

from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
)

from custom_components.local_doorbell.const import DOMAIN
from virtual_doorbell import VirtualDoorbell

from .conftest import device_entry, wait_for


async def test_triggers_are_listed(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    device_id = device_entry(hass, entry).id
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device_id)
    ours = sorted(t["type"] for t in triggers if t["domain"] == DOMAIN)
    assert ours == ["motion", "pressed"]


async def test_triggers_fire_on_press_and_motion(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    service_calls: list[ServiceCall],
) -> None:
    device_id = device_entry(hass, entry).id
    automations = [
        {
            "triggers": [
                {"platform": "device", "domain": DOMAIN, "device_id": device_id, "type": kind}
            ],
            "actions": [{"action": "test.automation", "data": {"kind": kind}}],
        }
        for kind in ("pressed", "motion")
    ]
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: automations})
    doorbell.press()
    await wait_for(lambda: len(service_calls) == 1)
    assert service_calls[0].data == {"kind": "pressed"}
    doorbell.motion(True)
    await wait_for(lambda: len(service_calls) == 2)
    assert service_calls[1].data == {"kind": "motion"}
    # Motion ending fires nothing; motion starting again fires again.
    doorbell.motion(False)
    doorbell.motion(True)
    await wait_for(lambda: len(service_calls) == 3)
    assert [call.data["kind"] for call in service_calls] == ["pressed", "motion", "motion"]


async def test_a_device_without_the_entity_offers_and_attaches_nothing(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    other = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "other")}
    )
    assert await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, other.id) == []
    trigger = {"platform": "device", "domain": DOMAIN, "device_id": other.id, "type": "pressed"}
    config = {"triggers": [trigger], "actions": [{"action": "test.automation"}]}
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: [config]})
    await hass.async_block_till_done()
    assert "has no entity for the pressed trigger" in caplog.text
