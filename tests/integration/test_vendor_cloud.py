"""The doorbell's own cloud: turned off over the LAN, watched, and reported when it stays on."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.local_doorbell.const import DOMAIN
from virtual_doorbell import VirtualDoorbell

from .conftest import AddEntry, current, entity_id, wait_for


def _issue(hass: HomeAssistant, doorbell: VirtualDoorbell) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"vendor_cloud_on_{doorbell.state.serial}")


def _cloud_on(doorbell: VirtualDoorbell) -> bool:
    return doorbell.state.cloud_enabled


async def test_turned_off_at_setup_and_after_a_reset(
    hass: HomeAssistant, doorbell: VirtualDoorbell, add_entry: AddEntry
) -> None:
    assert _cloud_on(doorbell)  # as shipped
    await add_entry()
    sensor = entity_id(hass, "binary_sensor", doorbell.state.serial, "vendor_cloud")
    assert not _cloud_on(doorbell)
    assert current(hass, sensor).state == STATE_OFF
    assert _issue(hass, doorbell) is None
    # A factory reset turns the vendor's cloud back on; the reconnect turns it off again.
    doorbell.state.cloud_enabled = True
    await doorbell.fault("reboot", 1)
    await wait_for(lambda: not doorbell.state.faults.rebooting, 10)
    await wait_for(lambda: doorbell.state.cloud_enabled is False, 20)
    await wait_for(lambda: current(hass, sensor).state == STATE_OFF)


async def test_a_switch_that_will_not_turn_off_raises_an_issue(
    hass: HomeAssistant, doorbell: VirtualDoorbell, add_entry: AddEntry
) -> None:
    doorbell.state.cloud_locked = True
    await add_entry()
    sensor = entity_id(hass, "binary_sensor", doorbell.state.serial, "vendor_cloud")
    assert current(hass, sensor).state == STATE_ON
    issue = _issue(hass, doorbell)
    assert issue is not None
    assert issue.translation_key == "vendor_cloud_on"
    assert issue.translation_placeholders == {
        "model": "AD410",
        "url": f"http://127.0.0.1:{doorbell.http_port}/",
    }


async def test_a_device_that_refuses_raises_an_issue(
    hass: HomeAssistant, doorbell: VirtualDoorbell, add_entry: AddEntry
) -> None:
    entry = await add_entry()
    await doorbell.fault("refuse_auth")
    await entry.runtime_data.coordinator.async_enforce_cloud_off()
    assert entry.runtime_data.coordinator.data.cloud_enabled is None
    assert _issue(hass, doorbell) is not None


async def test_the_owner_may_keep_it_on(
    hass: HomeAssistant, doorbell: VirtualDoorbell, add_entry: AddEntry
) -> None:
    await add_entry({"keep_vendor_cloud_off": False})
    sensor = entity_id(hass, "binary_sensor", doorbell.state.serial, "vendor_cloud")
    assert doorbell.state.cloud_enabled is True
    assert current(hass, sensor).state == STATE_ON
    assert _issue(hass, doorbell) is None
