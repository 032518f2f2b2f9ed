"""The "last visitor" image: the thumbnail of the newest clip started by a ring."""

from __future__ import annotations

from pathlib import Path

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ClipStats
from .entity import ClipsEntity
from .models import LocalDoorbellConfigEntry

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
        self._thumbnail: Path | None = None
        self._update_from_stats()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when another visitor's picture came."""
        if self._update_from_stats():
            self.async_write_ha_state()

    def _update_from_stats(self) -> bool:
        """Take the newest ring clip's thumbnail; tell whether it changed."""
        stats: ClipStats | None = self.coordinator.data  # None if the first reading failed
        last_ring = None if stats is None else stats.last_ring
        thumbnail = None if last_ring is None else last_ring[1]
        if thumbnail == self._thumbnail:
            return False
        self._thumbnail = thumbnail
        self._attr_image_last_updated = None if last_ring is None else last_ring[0]
        return True

    @property
    def entity_picture(self) -> str | None:
        """Link a picture only once there is one: the image view answers 500 without."""
        return None if self._thumbnail is None else super().entity_picture

    async def async_image(self) -> bytes | None:
        """Return the thumbnail's bytes."""
        if self._thumbnail is None:
            return None
        return await self.hass.async_add_executor_job(_read, self._thumbnail)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
