"""The doorbell's event entity: `ring` on every press, telling where its clip and picture are."""

from __future__ import annotations

from homeassistant.components.event import (
    EventDeviceClass,
    EventEntity,
    EventEntityDescription,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .devices.base import EventKind
from .entity import DoorbellEntity
from .image import LAST_VISITOR
from .models import LocalDoorbellConfigEntry
from .ring import ATTR_CLIP_ID, ATTR_IMAGE_PATH, Ring, async_log_ring
from .unique_ids import entity_id_of

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
    """Fires `ring` when someone presses the button, with its clip's id and picture's path."""

    async def async_added_to_hass(self) -> None:
        """Subscribe to the doorbell's rings, told once their clip is open."""
        await super().async_added_to_hass()
        self.async_on_remove(self.runtime.clips.rings.async_subscribe_rings(self._ring))

    @callback
    def _ring(self, ring: Ring) -> None:
        image = entity_id_of(self.hass, "image", self.runtime.identity.serial, LAST_VISITOR.key)
        self._trigger_event(
            EventKind.RING.value,
            {
                ATTR_CLIP_ID: ring.clip_id,
                # Relative: the companion app fetches it from Home Assistant, signed in.
                ATTR_IMAGE_PATH: None if image is None else f"/api/image_proxy/{image}",
            },
        )
        self.async_write_ha_state()
        if ring.clip_id is not None and (state := self.hass.states.get(self.entity_id)):
            async_log_ring(self.hass, state.name, self.entity_id, ring.clip_id, state.context)
