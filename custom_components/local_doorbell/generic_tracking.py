"""A generic camera's button and motion sensor: other Home Assistant entities."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers.event import async_track_state_change_event

from .devices.base import DoorbellEvent, EventKind
from .devices.generic import GenericDoorbell

# Binary sensors and helpers turn on; event entities (ESPHome, Shelly, Zigbee, Z-Wave) fire.
BUTTON_DOMAINS = ("binary_sensor", "event", "input_boolean")
MOTION_DOMAINS = ("binary_sensor", "input_boolean")


def pressed(old: State | None, new: State | None) -> bool:
    """Tell whether a state change is a press of the button."""
    if old is None or new is None:
        return False  # the entity was just added or removed, nothing was pressed
    if new.domain == "event":
        # An event entity's state is the time it last fired; coming back from
        # unavailable restores that time and is not a new press.
        valid = new.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
        return valid and old.state not in (STATE_UNAVAILABLE, new.state)
    return old.state == STATE_OFF and new.state == STATE_ON


@callback
def async_track_button(
    hass: HomeAssistant, device: GenericDoorbell, button: str, motion: str | None
) -> CALLBACK_TYPE:
    """Hand presses of `button` and changes of `motion` to the device; return the stopper."""

    @callback
    def _button(event: Event[EventStateChangedData]) -> None:
        if pressed(event.data["old_state"], event.data["new_state"]):
            device.push(DoorbellEvent(kind=EventKind.RING, code=event.data["entity_id"]))

    @callback
    def _motion(event: Event[EventStateChangedData]) -> None:
        old, new = event.data["old_state"], event.data["new_state"]
        if old is None or new is None or old.state != new.state:
            _push_motion(device, new)

    stoppers = [async_track_state_change_event(hass, button, _button)]
    if motion is not None:
        stoppers.append(async_track_state_change_event(hass, motion, _motion))
        _push_motion(device, hass.states.get(motion))

    @callback
    def _stop() -> None:
        for stop in stoppers:
            stop()

    return _stop


def _push_motion(device: GenericDoorbell, state: State | None) -> None:
    if state is not None and state.state in (STATE_ON, STATE_OFF):
        device.push(
            DoorbellEvent(
                kind=EventKind.MOTION, active=state.state == STATE_ON, code=state.entity_id
            )
        )
