"""The privacy-mode switch: on, the doorbell records nothing."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .entity import DoorbellEntity
from .models import LocalDoorbellConfigEntry

PARALLEL_UPDATES = 1

PRIVACY_MODE = SwitchEntityDescription(key="privacy_mode", translation_key="privacy_mode")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LocalDoorbellConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the privacy-mode switch."""
    async_add_entities([PrivacyModeSwitch(entry, PRIVACY_MODE)])


class PrivacyModeSwitch(DoorbellEntity, SwitchEntity, RestoreEntity):
    """Pauses recording; the choice survives restarts."""

    @property
    def available(self) -> bool:
        """Stay available: the owner can pause recording while the device is away."""
        return True

    @property
    def is_on(self) -> bool:
        """Tell whether recording is paused."""
        return self.runtime.clips.privacy_mode

    async def async_added_to_hass(self) -> None:
        """Restore the owner's last choice."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_state()) is not None:
            self.runtime.clips.set_privacy_mode(last.state == STATE_ON)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Pause recording."""
        self.runtime.clips.set_privacy_mode(True)
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Resume recording."""
        self.runtime.clips.set_privacy_mode(False)
        self.async_write_ha_state()
