"""Binary sensors: motion, person, the event connection and the device's own cloud."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import DoorbellCoordinator, DoorbellState
from .devices.base import CloudSwitch
from .entity import DoorbellEntity
from .models import LocalDoorbellConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class LocalDoorbellBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor read from the doorbell's pushed state."""

    value_fn: Callable[[DoorbellState], bool | None]
    exists_fn: Callable[[DoorbellCoordinator], bool] = lambda _: True
    always_available: bool = False


BINARY_SENSORS: tuple[LocalDoorbellBinarySensorDescription, ...] = (
    LocalDoorbellBinarySensorDescription(
        key="motion",
        translation_key="motion",
        device_class=BinarySensorDeviceClass.MOTION,
        value_fn=lambda state: state.motion,
        exists_fn=lambda coordinator: coordinator.identity.has_motion,
    ),
    LocalDoorbellBinarySensorDescription(
        key="person",
        translation_key="person",
        device_class=BinarySensorDeviceClass.OCCUPANCY,
        value_fn=lambda state: state.person,
        exists_fn=lambda coordinator: coordinator.identity.has_person,
    ),
    LocalDoorbellBinarySensorDescription(
        key="event_connection",
        translation_key="event_connection",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.connected,
        always_available=True,
    ),
    LocalDoorbellBinarySensorDescription(
        key="vendor_cloud",
        translation_key="vendor_cloud",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.cloud_enabled,
        exists_fn=lambda coordinator: isinstance(coordinator.device, CloudSwitch),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LocalDoorbellConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors this doorbell supports."""
    async_add_entities(
        LocalDoorbellBinarySensor(entry, description)
        for description in BINARY_SENSORS
        if description.exists_fn(entry.runtime_data.coordinator)
    )


class LocalDoorbellBinarySensor(DoorbellEntity, BinarySensorEntity):
    """A binary sensor of one doorbell."""

    entity_description: LocalDoorbellBinarySensorDescription

    @property
    def available(self) -> bool:
        """Stay available for the sensors that report the connection itself."""
        return self.entity_description.always_available or super().available

    @property
    def is_on(self) -> bool | None:
        """Return the value from the pushed state."""
        return self.entity_description.value_fn(self.coordinator.data)
