"""The "last visitor" image: the picture at the newest press, else the newest ring clip's thumbnail.

The picture at the press is held in memory; it is the thumbnail of the press's clip too, so
after a restart the clip's (smaller) thumbnail stands in for it. It goes when its clip is
deleted, as that clip's thumbnail would.
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ClipStats
from .entity import ClipsEntity
from .models import LocalDoorbellConfigEntry
from .ring import Visitor

PARALLEL_UPDATES = 0

LAST_VISITOR = ImageEntityDescription(key="last_visitor", translation_key="last_visitor")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LocalDoorbellConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the last-visitor image."""
    async_add_entities([LastVisitorImage(hass, entry)])


class LastVisitorImage(ClipsEntity, ImageEntity):
    """Who rang last, as the recorder saw them at the press."""

    _attr_content_type = "image/jpeg"

    def __init__(self, hass: HomeAssistant, entry: LocalDoorbellConfigEntry) -> None:
        """Set up both parents."""
        ImageEntity.__init__(self, hass)
        ClipsEntity.__init__(self, entry, LAST_VISITOR)
        self._visitor: Visitor | None = None
        self._visitor_indexed = False  # its clip was seen in the library
        self._thumbnail: Path | None = None
        self._update_from_stats()

    async def async_added_to_hass(self) -> None:
        """Subscribe to the pictures at the presses."""
        await super().async_added_to_hass()
        self.async_on_remove(self.runtime.clips.rings.async_subscribe_visitors(self._visit))

    @callback
    def _visit(self, visitor: Visitor) -> None:
        """Show the picture at a press at once."""
        self._visitor, self._visitor_indexed, self._thumbnail = visitor, False, None
        self._attr_image_last_updated = visitor.at
        self.async_write_ha_state()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when another visitor's picture came."""
        if self._update_from_stats():
            self.async_write_ha_state()

    def _update_from_stats(self) -> bool:
        """Take the newest ring clip's thumbnail unless a press's is newer; tell if it changed."""
        stats: ClipStats | None = self.coordinator.data  # None if the first reading failed
        last_ring = None if stats is None else stats.last_ring
        dropped = False
        if (visitor := self._visitor) is not None:
            if visitor.clip_id is not None and last_ring and last_ring[1].stem == visitor.clip_id:
                self._visitor_indexed = True
                return False
            newer = last_ring is not None and last_ring[0] > visitor.at
            if not newer and not self._visitor_indexed:
                return False
            self._visitor, dropped = None, True  # its clip was deleted, or a later ring's came
        thumbnail = None if last_ring is None else last_ring[1]
        if thumbnail == self._thumbnail and not dropped:
            return False
        self._thumbnail = thumbnail
        self._attr_image_last_updated = None if last_ring is None else last_ring[0]
        return True

    @property
    def entity_picture(self) -> str | None:
        """Link a picture only once there is one: the image view answers 500 without."""
        if self._visitor is None and self._thumbnail is None:
            return None
        return super().entity_picture

    async def async_image(self) -> bytes | None:
        """Return the picture's bytes."""
        if self._visitor is not None:
            return self._visitor.jpeg
        if self._thumbnail is None:
            return None
        return await self.hass.async_add_executor_job(_read, self._thumbnail)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
