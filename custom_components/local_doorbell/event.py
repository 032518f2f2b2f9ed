"""The doorbell's event entity: `ring` on every press."""

from __future__ import annotations

import asyncio

from homeassistant.components.event import (
    EventDeviceClass,
    EventEntity,
    EventEntityDescription,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .devices.base import DoorbellEvent, EventKind
from .entity import DoorbellEntity, entity_id_of
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
        self.hass.async_create_task(self._async_ring(), eager_start=True)

    async def _async_ring(self) -> None:
        """Fire `ring` with its clip and the picture's relative path.

        A stand-in until the ring-moment branch (issue 15, items 1 and 4) names the clip at
        the press: here the event waits for the recorder to open (or extend) the ring's clip.
        """
        clip_id = None
        for _ in range(40):
            if (clip_id := self.runtime.clips.recorder.open_clip_id) is not None:
                break
            await asyncio.sleep(0.05)
        image = entity_id_of(self.hass, "image", self.runtime.identity.serial, "last_visitor")
        attributes = {"clip_id": clip_id, "image_path": f"/api/image_proxy/{image}"}
        self._trigger_event(EventKind.RING.value, attributes)
        self.async_write_ha_state()
