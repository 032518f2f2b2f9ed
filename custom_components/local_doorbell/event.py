"""The doorbell's event entity: `ring` on every press."""

from __future__ import annotations

from homeassistant.components.event import (
    EventDeviceClass,
    EventEntity,
    EventEntityDescription,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import EVENT_RING
from .devices.base import DoorbellEvent, EventKind
from .entity import LocalDoorbellEntity
from .runtime import LocalDoorbellConfigEntry

PARALLEL_UPDATES = 0

DOORBELL = EventEntityDescription(
    key="doorbell",
    translation_key="doorbell",
    device_class=EventDeviceClass.DOORBELL,
    # The literal: DoorbellEventType does not exist in Home Assistant 2026.2.
    event_types=[EVENT_RING],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LocalDoorbellConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the doorbell event entity."""
    async_add_entities([LocalDoorbellEvent(entry, DOORBELL)])


class LocalDoorbellEvent(LocalDoorbellEntity, EventEntity):
    """Fires `ring` when someone presses the button."""

    @callback
    def _handle_event(self, event: DoorbellEvent) -> None:
        if event.kind is EventKind.RING:
            self._trigger_event(EVENT_RING)
            self.async_write_ha_state()
        else:
            super()._handle_event(event)
