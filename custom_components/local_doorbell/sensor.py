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
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .clips import signal_clips_changed
from .entity import LocalDoorbellEntity
from .privacy.audit import AuditAction, AuditLog
from .privacy.export import audit_log
from .recording.library import Clip, Library
from .runtime import LocalDoorbellConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, slots=True)
class ClipStats:
    """What the sensors show, read from the library in one executor job."""

    count: int
    size: int
    latest: Clip | None
    last_export: datetime | None


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


def _stats(library: Library, serial: str, audit: AuditLog) -> ClipStats:
    count, size = library.totals(serial)
    export = audit.last(AuditAction.EXPORT)
    return ClipStats(
        count=count,
        size=size,
        latest=library.latest(serial),
        last_export=export.at if export else None,
    )


class LocalDoorbellSensor(LocalDoorbellEntity, SensorEntity):
    """A statistic of the doorbell's recorded clips."""

    entity_description: LocalDoorbellSensorDescription
    _stats: ClipStats | None = None

    @property
    def available(self) -> bool:
        """Stay available while the device is away: the clips are still here."""
        return self._stats is not None

    @property
    def native_value(self) -> int | datetime | None:
        """Return the statistic."""
        return None if self._stats is None else self.entity_description.value_fn(self._stats)

    async def async_added_to_hass(self) -> None:
        """Read the library now and whenever the clips change."""
        await super().async_added_to_hass()
        serial = self.runtime.info.serial
        self.async_on_remove(
            async_dispatcher_connect(self.hass, signal_clips_changed(serial), self._async_refresh)
        )
        await self._async_refresh(write=False)

    async def _async_refresh(self, write: bool = True) -> None:
        clips = self.runtime.clips
        audit = audit_log(self.hass, clips.library.root)
        self._stats = await self.hass.async_add_executor_job(
            _stats, clips.library, clips.serial, audit
        )
        if write:
            self.async_write_ha_state()
