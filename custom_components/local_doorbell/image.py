"""The "last visitor" image: the thumbnail of the newest clip started by a ring."""

from __future__ import annotations

from pathlib import Path

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .clips import signal_clips_changed
from .const import TRIGGER_RING
from .entity import LocalDoorbellEntity
from .runtime import LocalDoorbellConfigEntry

PARALLEL_UPDATES = 0

LAST_VISITOR = ImageEntityDescription(key="last_visitor", translation_key="last_visitor")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LocalDoorbellConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the last-visitor image."""
    async_add_entities([LastVisitorImage(hass, entry)])


class LastVisitorImage(LocalDoorbellEntity, ImageEntity):
    """Who rang last, as the recorder saw them at the press."""

    _attr_content_type = "image/jpeg"

    def __init__(self, hass: HomeAssistant, entry: LocalDoorbellConfigEntry) -> None:
        """Set up both parents."""
        ImageEntity.__init__(self, hass)
        LocalDoorbellEntity.__init__(self, entry, LAST_VISITOR)
        self._thumbnail: Path | None = None

    @property
    def available(self) -> bool:
        """Stay available while the device is away: the picture is stored here."""
        return True

    async def async_added_to_hass(self) -> None:
        """Find the newest ring clip now and whenever the clips change."""
        await super().async_added_to_hass()
        serial = self.runtime.info.serial
        self.async_on_remove(
            async_dispatcher_connect(self.hass, signal_clips_changed(serial), self._async_refresh)
        )
        await self._async_refresh(write=False)

    async def _async_refresh(self, write: bool = True) -> None:
        clips = self.runtime.clips
        latest = await self.hass.async_add_executor_job(clips.latest_thumbnail, TRIGGER_RING)
        thumbnail = None if latest is None else latest[1]
        if thumbnail != self._thumbnail:
            self._thumbnail = thumbnail
            self._attr_image_last_updated = None if latest is None else latest[0]
            if write:
                self.async_write_ha_state()

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
