"""The base entities: one device per doorbell, described here and nowhere else."""

from __future__ import annotations

from typing import Any

from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from .const import DOMAIN
from .coordinator import ClipStatsCoordinator, DoorbellCoordinator
from .models import LocalDoorbellConfigEntry, LocalDoorbellData
from .unique_ids import unique_id


class LocalDoorbellEntity[C: DataUpdateCoordinator[Any]](CoordinatorEntity[C]):
    """An entity of one doorbell, updated by one of its coordinators."""

    _attr_has_entity_name = True

    def __init__(
        self, entry: LocalDoorbellConfigEntry, coordinator: C, description: EntityDescription
    ) -> None:
        """Describe the entity and the device it belongs to."""
        super().__init__(coordinator)
        self.runtime: LocalDoorbellData = entry.runtime_data
        identity = self.runtime.identity
        self.entity_description = description
        self._attr_unique_id = unique_id(identity.serial, description.key)
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, identity.serial)},
            connections={(CONNECTION_NETWORK_MAC, identity.mac)} if identity.mac else set(),
            name=entry.title,
            manufacturer=identity.manufacturer,
            model=identity.model,
            serial_number=identity.serial,
            sw_version=identity.firmware,
            configuration_url=self.runtime.configuration_url,
        )


class DoorbellEntity(LocalDoorbellEntity[DoorbellCoordinator]):
    """An entity of the device's live state; unavailable while its events are not heard."""

    def __init__(self, entry: LocalDoorbellConfigEntry, description: EntityDescription) -> None:
        """Follow the doorbell's coordinator."""
        super().__init__(entry, entry.runtime_data.coordinator, description)

    @property
    def available(self) -> bool:
        """Tell whether the device's event channel is up."""
        return self.coordinator.data.connected


class ClipsEntity(LocalDoorbellEntity[ClipStatsCoordinator]):
    """An entity of the doorbell's recordings; they stay readable while it is away."""

    def __init__(self, entry: LocalDoorbellConfigEntry, description: EntityDescription) -> None:
        """Follow the clip statistics."""
        super().__init__(entry, entry.runtime_data.clips.stats, description)
