"""The doorbell's event entity: `ring` on every press."""

from __future__ import annotations

from homeassistant.components.event import (
    EventDeviceClass,
    EventEntity,
    EventEntityDescription,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .devices.base import DoorbellEvent, EventKind
from .entity import DoorbellEntity
from .models import LocalDoorbellConfigEntry

PARALLEL_UPDATES = 0

DOORBELL = EventEntityDescription(
    key="doorbell",
    translation_key="doorbell",
    device_class=EventDeviceClass.DOORBELL,
    # The literal: DoorbellEventType does not exist in Home Assistant 2026.2.
    event_types=[EventKind.RING.value],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LocalDoorbellConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the doorbell event entity."""
    async_add_entities([LocalDoorbellEvent(entry, DOORBELL)])


class LocalDoorbellEvent(DoorbellEntity, EventEntity):
    """Fires `ring` when someone presses the button."""

    async def async_added_to_hass(self) -> None:
        """Subscribe to the doorbell's rings."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_subscribe_event(EventKind.RING, self._ring))

    @callback
    def _ring(self, event: DoorbellEvent) -> None:
        self._trigger_event(EventKind.RING.value)
        self.async_write_ha_state()
