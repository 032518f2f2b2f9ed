"""Every network driver end to end: detected by the config flow, ringing, recording, recovering."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import (
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
import pytest

from custom_components.local_doorbell.const import CONF_PROTOCOL, CONF_RTSP_PORT
from virtual_doorbell import VirtualDoorbell

from .conftest import FAST_RECORDING, current, entity_id, entry_data, start_flow, wait_for

# One model per protocol, and what the flow should find: protocol, maker, model. Every
# driver names the maker once ("D101 by DoorBird", never "DoorBird D101 by DoorBird").
DRIVERS = {
    "AD410": ("dahua", "Amcrest", "AD410"),
    "D101": ("doorbird", "DoorBird", "D101"),
    "ReolinkDoorbell": ("onvif", "Reolink", "Video Doorbell PoE"),
}


def flow_input(doorbell: VirtualDoorbell, password: str | None = None) -> dict[str, object]:
    """Return what the owner types: the address, the account and (here) the RTSP port."""
    # DoorBird's LAN API cannot tell it; the simulator's is not the usual 554.
    return {**entry_data(doorbell, password), CONF_RTSP_PORT: doorbell.rtsp_port}


@pytest.mark.parametrize("doorbell_model", list(DRIVERS))
async def test_detected_ringing_recording_and_recovering(
    hass: HomeAssistant, doorbell: VirtualDoorbell, doorbell_model: str
) -> None:
    protocol, maker, model = DRIVERS[doorbell_model]
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, flow_input(doorbell, password="wrong")
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(flow_id, flow_input(doorbell))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PROTOCOL] == protocol
    assert result["title"] == f"{maker} {model}"
    entry = result["result"]
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert (device.manufacturer, device.model) == (maker, model)
    await wait_for(lambda: doorbell.state.counters.event_clients_total >= 1)
    attached = doorbell.state.counters.event_clients_total
    hass.config_entries.async_update_entry(entry, options=FAST_RECORDING)
    assert await hass.config_entries.async_reload(entry.entry_id)
    # Events sent before the reloaded entry listens again would be lost.
    await wait_for(lambda: doorbell.state.counters.event_clients_total > attached)
    serial = str(entry.unique_id)

    ring = entity_id(hass, "event", serial, "doorbell")
    motion = entity_id(hass, "binary_sensor", serial, "motion")
    clips = entity_id(hass, "sensor", serial, "clip_count")
    await wait_for(lambda: current(hass, ring).state != STATE_UNAVAILABLE)
    await wait_for(lambda: doorbell.state.counters.rtsp_sessions >= 1)
    doorbell.motion(True)
    await wait_for(lambda: current(hass, motion).state == STATE_ON)
    doorbell.motion(False)
    await wait_for(lambda: current(hass, motion).state == STATE_OFF)
    # Pre-roll needs a keyframe before the press.
    clip_manager = entry.runtime_data.clips
    await wait_for(lambda: clip_manager.latest_jpeg() is not None)
    doorbell.press()
    await wait_for(lambda: current(hass, ring).attributes.get("event_type") == "ring")
    await wait_for(lambda: current(hass, clips).state == "1", 30)

    await doorbell.fault("reboot", 3)
    await wait_for(lambda: current(hass, ring).state == STATE_UNAVAILABLE, 30)
    await wait_for(lambda: current(hass, ring).state != STATE_UNAVAILABLE, 30)
    # Events flow again (motion: a press this soon would fall in Dahua's ring debounce).
    doorbell.motion(True)
    await wait_for(lambda: current(hass, motion).state == STATE_ON, 15)

    # The password changed on the device: the owner is asked for the new one.
    await doorbell.fault("refuse_auth")
    await doorbell.fault("drop_events")
    await wait_for(lambda: any(entry.async_get_active_flows(hass, {SOURCE_REAUTH})), 30)
    assert current(hass, ring).state == STATE_UNAVAILABLE
    assert await hass.config_entries.async_unload(entry.entry_id)
