"""Sensors of the local recording: storage used, clip count, last clip, how long clips are kept.

The retention sensors show every member of the household, not only the administrators who
can open the options, how long the doorbell keeps footage of them.
"""

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
from homeassistant.const import EntityCategory, UnitOfInformation, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ClipStats
from .devices.base import EventKind
from .entity import ClipsEntity
from .models import LocalDoorbellConfigEntry
from .options import RECORD_TRIGGERS

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


@dataclass(frozen=True, kw_only=True)
class RetentionSensorDescription(SensorEntityDescription):
    """How long the clips of one trigger are kept, as the options set it."""

    kind: EventKind


RETENTION_SENSORS: tuple[RetentionSensorDescription, ...] = tuple(
    RetentionSensorDescription(
        key=f"retention_{kind}",
        translation_key=f"retention_{kind}",
        kind=kind,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.HOURS,
        entity_category=EntityCategory.DIAGNOSTIC,
    )
    for kind in RECORD_TRIGGERS
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LocalDoorbellConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the recording sensors."""
    async_add_entities(LocalDoorbellSensor(entry, description) for description in SENSORS)
    async_add_entities(RetentionSensor(entry, description) for description in RETENTION_SENSORS)


class LocalDoorbellSensor(ClipsEntity, SensorEntity):
    """A statistic of the doorbell's recorded clips."""

    entity_description: LocalDoorbellSensorDescription

    @property
    def native_value(self) -> int | datetime | None:
        """Return the statistic."""
        return self.entity_description.value_fn(self.coordinator.data)


class RetentionSensor(ClipsEntity, SensorEntity):
    """How long the doorbell keeps the clips of one trigger (longest when several)."""

    entity_description: RetentionSensorDescription

    @property
    def native_value(self) -> float:
        """Return the hours the options set."""
        return self.runtime.options.retention_hours[self.entity_description.kind]
