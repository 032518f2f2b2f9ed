"""Sensors of the local recording: storage used, clip count, time of the last clip."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfInformation
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ClipStats
from .entity import ClipsEntity
from .models import LocalDoorbellConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class LocalDoorbellSensorDescription(SensorEntityDescription):
    """A sensor computed from the doorbell's clip statistics."""

    value_fn: Callable[[ClipStats], int | datetime | None]


SENSORS: tuple[LocalDoorbellSensorDescription, ...] = (
    LocalDoorbellSensorDescription(
        key="storage_used",
        translation_key="storage_used",
        device_class=SensorDeviceClass.DATA_SIZE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.MEBIBYTES,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda stats: stats.size,
    ),
    LocalDoorbellSensorDescription(
        key="clip_count",
        translation_key="clip_count",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda stats: stats.count,
    ),
    LocalDoorbellSensorDescription(
        key="last_clip",
        translation_key="last_clip",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda stats: stats.latest.start if stats.latest else None,
    ),
    LocalDoorbellSensorDescription(
        key="last_export",
        translation_key="last_export",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda stats: stats.last_export,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LocalDoorbellConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the recording sensors."""
    async_add_entities(LocalDoorbellSensor(entry, description) for description in SENSORS)


class LocalDoorbellSensor(ClipsEntity, SensorEntity):
    """A statistic of the doorbell's recorded clips."""

    entity_description: LocalDoorbellSensorDescription

    @property
    def native_value(self) -> int | datetime | None:
        """Return the statistic."""
        return self.entity_description.value_fn(self.coordinator.data)
