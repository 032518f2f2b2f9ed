"""Device triggers for the automation editor: "Doorbell pressed" and "Motion detected"."""

from __future__ import annotations

from typing import Any

from homeassistant.components.device_automation import (
    DEVICE_TRIGGER_BASE_SCHEMA,
    InvalidDeviceAutomationConfig,
)
from homeassistant.const import CONF_DEVICE_ID, CONF_DOMAIN, CONF_PLATFORM, CONF_TYPE, STATE_ON
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HassJob,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from .compat import vol
from .const import DOMAIN
from .unique_ids import entity_id_of

TRIGGER_PRESSED = "pressed"
TRIGGER_MOTION = "motion"
# The trigger type, and the entity (by platform and description key) whose change fires it.
_SOURCES = {TRIGGER_PRESSED: ("event", "doorbell"), TRIGGER_MOTION: ("binary_sensor", "motion")}
_UNKNOWN = (None, "unavailable", "unknown")

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {vol.Required(CONF_TYPE): vol.In(list(_SOURCES))}
)


def _entity_for(hass: HomeAssistant, device_id: str, trigger_type: str) -> str | None:
    """Return the entity id behind a trigger type on a device."""
    platform, key = _SOURCES[trigger_type]
    if (device := dr.async_get(hass).async_get(device_id)) is None:
        return None
    serials = [serial for domain, serial in device.identifiers if domain == DOMAIN]
    return next(filter(None, (entity_id_of(hass, platform, s, key) for s in serials)), None)


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    """List the triggers a doorbell offers."""
    return [
        {CONF_PLATFORM: "device", CONF_DOMAIN: DOMAIN, CONF_DEVICE_ID: device_id, CONF_TYPE: kind}
        for kind in _SOURCES
        if _entity_for(hass, device_id, kind) is not None
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Run `action` on each press (every new state of the event entity) or motion start."""
    trigger_type: str = config[CONF_TYPE]
    entity_id = _entity_for(hass, config[CONF_DEVICE_ID], trigger_type)
    if entity_id is None:
        raise InvalidDeviceAutomationConfig(
            f"Device {config[CONF_DEVICE_ID]} has no entity for the {trigger_type} trigger"
        )
    trigger_data = trigger_info["trigger_data"]
    job = HassJob(action, f"{DOMAIN} {trigger_type} trigger {trigger_info}")

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        old, new = event.data["old_state"], event.data["new_state"]
        if new is None or new.state in _UNKNOWN or (old is not None and old.state == new.state):
            return
        if trigger_type == TRIGGER_MOTION and new.state != STATE_ON:
            return
        payload = {
            **trigger_data,
            CONF_PLATFORM: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: config[CONF_DEVICE_ID],
            CONF_TYPE: trigger_type,
            "entity_id": entity_id,
            "description": f"{trigger_type} on {entity_id}",
        }
        hass.async_run_hass_job(job, {"trigger": payload}, event.context)

    return async_track_state_change_event(hass, [entity_id], _changed)
