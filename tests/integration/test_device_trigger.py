"""Device triggers: the automation editor's "Doorbell pressed" and "Motion detected"."""

from __future__ import annotations

from homeassistant.components import automation
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
)

from custom_components.local_doorbell.const import DOMAIN
from virtual_doorbell import VirtualDoorbell

from .conftest import wait_for


def _device_id(hass: HomeAssistant, doorbell: VirtualDoorbell) -> str:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, doorbell.state.serial)})
    assert device is not None
    return device.id


async def test_triggers_are_listed(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    device_id = _device_id(hass, doorbell)
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device_id)
    ours = sorted(t["type"] for t in triggers if t["domain"] == DOMAIN)
    assert ours == ["motion", "pressed"]


async def test_triggers_fire_on_press_and_motion(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    service_calls: list[ServiceCall],
) -> None:
    device_id = _device_id(hass, doorbell)
    automations = [
        {
            "triggers": [
                {"platform": "device", "domain": DOMAIN, "device_id": device_id, "type": kind}
            ],
            "actions": [{"action": "test.automation", "data": {"kind": kind}}],
        }
        for kind in ("pressed", "motion")
    ]
    assert await async_setup_component(hass, automation.DOMAIN, {automation.DOMAIN: automations})
    doorbell.press()
    await wait_for(lambda: len(service_calls) == 1)
    assert service_calls[0].data == {"kind": "pressed"}
    doorbell.motion(True)
    await wait_for(lambda: len(service_calls) == 2)
    assert service_calls[1].data == {"kind": "motion"}
    doorbell.motion(False)
    doorbell.press()
    await wait_for(lambda: len(service_calls) == 3)
    assert service_calls[2].data == {"kind": "pressed"}


async def test_trigger_for_a_device_without_the_entity_does_nothing(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    other = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "other")}
    )
    assert await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, other.id) == []
