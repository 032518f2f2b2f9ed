"""The runtime model of one config entry, and its options parsed once with their defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .const import (
    CONF_KEEP_CLOUD_OFF,
    CONF_MAX_CLIP_LENGTH,
    CONF_MAX_STORAGE_GB,
    CONF_MIN_FREE_GB,
    CONF_POST_ROLL,
    CONF_PRE_ROLL,
    CONF_RECORD_TRIGGERS,
    CONF_RETENTION_HOURS,
    CONF_STORAGE_ROOT,
)
from .devices.base import DeviceIdentity, EventKind
from .recording.retention import GIB, RetentionPolicy
from .recording.storage import default_root
from .rtsp.restream import Restream

if TYPE_CHECKING:
    from .clips import ClipManager
    from .coordinator import DoorbellCoordinator

# The events the owner may record, and the defaults (reasons in DESIGN.md).
RECORD_TRIGGERS: Final = (EventKind.RING, EventKind.MOTION, EventKind.PERSON)
_POLICY: Final = RetentionPolicy()  # the recording library's own limits
assert _POLICY.max_age is not None
DEFAULTS: Final[Mapping[str, Any]] = {
    CONF_RECORD_TRIGGERS: [EventKind.RING.value],
    CONF_PRE_ROLL: 5,
    CONF_POST_ROLL: 10,
    CONF_MAX_CLIP_LENGTH: 120,
    CONF_RETENTION_HOURS: _POLICY.max_age / timedelta(hours=1),
    CONF_MAX_STORAGE_GB: 0,  # no cap
    CONF_MIN_FREE_GB: _POLICY.min_free_bytes / GIB,
    CONF_KEEP_CLOUD_OFF: True,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DoorbellOptions:
    """What to record, where, for how long to keep it, and whether to keep the cloud off."""

    root: Path
    triggers: frozenset[EventKind]
    pre_roll: float
    post_roll: float
    max_clip_length: float
    retention_hours: float
    max_storage_gb: float  # 0: no cap
    min_free_gb: float
    keep_cloud_off: bool

    @classmethod
    def from_options(cls, hass: HomeAssistant, options: Mapping[str, Any]) -> DoorbellOptions:
        """Return the options an entry holds, defaults filled in."""
        merged = {**DEFAULTS, **options}
        return cls(
            root=Path(options.get(CONF_STORAGE_ROOT) or default_storage_root(hass)),
            triggers=frozenset(EventKind(kind) for kind in merged[CONF_RECORD_TRIGGERS]),
            pre_roll=float(merged[CONF_PRE_ROLL]),
            post_roll=float(merged[CONF_POST_ROLL]),
            max_clip_length=float(merged[CONF_MAX_CLIP_LENGTH]),
            retention_hours=float(merged[CONF_RETENTION_HOURS]),
            max_storage_gb=float(merged[CONF_MAX_STORAGE_GB]),
            min_free_gb=float(merged[CONF_MIN_FREE_GB]),
            keep_cloud_off=bool(merged[CONF_KEEP_CLOUD_OFF]),
        )

    @property
    def retention(self) -> RetentionPolicy:
        """Return the retention policy these options describe."""
        return RetentionPolicy(
            max_age=timedelta(hours=self.retention_hours),
            max_total_bytes=int(self.max_storage_gb * GIB) if self.max_storage_gb > 0 else None,
            min_free_bytes=int(self.min_free_gb * GIB),
        )

    def as_options(self) -> dict[str, Any]:
        """Return the options as the options form shows them."""
        return {
            CONF_STORAGE_ROOT: str(self.root),
            CONF_RECORD_TRIGGERS: sorted(kind.value for kind in self.triggers),
            CONF_PRE_ROLL: self.pre_roll,
            CONF_POST_ROLL: self.post_roll,
            CONF_MAX_CLIP_LENGTH: self.max_clip_length,
            CONF_RETENTION_HOURS: self.retention_hours,
            CONF_MAX_STORAGE_GB: self.max_storage_gb,
            CONF_MIN_FREE_GB: self.min_free_gb,
            CONF_KEEP_CLOUD_OFF: self.keep_cloud_off,
        }


def default_storage_root(hass: HomeAssistant) -> Path:
    """Return the default storage root: a folder in Home Assistant's configuration folder."""
    return default_root(Path(hass.config.config_dir))


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalDoorbellData:
    """What the platforms of one config entry read: built once at setup."""

    identity: DeviceIdentity
    live: Restream  # what live view reads
    configuration_url: str | None
    options: DoorbellOptions
    coordinator: DoorbellCoordinator
    clips: ClipManager


type LocalDoorbellConfigEntry = ConfigEntry[LocalDoorbellData]
