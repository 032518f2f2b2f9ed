"""The recording settings of one doorbell, read from its config entry's options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant

from .const import (
    CONF_MAX_CLIP_LENGTH,
    CONF_MAX_STORAGE_GB,
    CONF_MIN_FREE_GB,
    CONF_POST_ROLL,
    CONF_PRE_ROLL,
    CONF_RECORD_TRIGGERS,
    CONF_RETENTION_HOURS,
    CONF_STORAGE_ROOT,
    DEFAULT_MAX_CLIP_LENGTH,
    DEFAULT_MAX_STORAGE_GB,
    DEFAULT_MIN_FREE_GB,
    DEFAULT_POST_ROLL,
    DEFAULT_PRE_ROLL,
    DEFAULT_RECORD_TRIGGERS,
    DEFAULT_RETENTION_HOURS,
)
from .recording.retention import RetentionPolicy
from .recording.storage import default_root

GIB = 1024**3


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingSettings:
    """What to record, where, and for how long to keep it."""

    root: Path
    triggers: frozenset[str]
    pre_roll: float
    post_roll: float
    max_clip_length: float
    retention_hours: float
    max_storage_gb: float  # 0: no cap
    min_free_gb: float

    @property
    def retention(self) -> RetentionPolicy:
        """Return the retention policy these settings describe."""
        return RetentionPolicy(
            max_age=timedelta(hours=self.retention_hours),
            max_total_bytes=int(self.max_storage_gb * GIB) if self.max_storage_gb > 0 else None,
            min_free_bytes=int(self.min_free_gb * GIB),
        )

    def as_options(self) -> dict[str, Any]:
        """Return the settings as the options form shows them."""
        return {
            CONF_STORAGE_ROOT: str(self.root),
            CONF_RECORD_TRIGGERS: sorted(self.triggers),
            CONF_PRE_ROLL: self.pre_roll,
            CONF_POST_ROLL: self.post_roll,
            CONF_MAX_CLIP_LENGTH: self.max_clip_length,
            CONF_RETENTION_HOURS: self.retention_hours,
            CONF_MAX_STORAGE_GB: self.max_storage_gb,
            CONF_MIN_FREE_GB: self.min_free_gb,
        }


def default_storage_root(hass: HomeAssistant) -> Path:
    """Return the default storage root: a folder in Home Assistant's configuration folder."""
    return default_root(Path(hass.config.config_dir))


def recording_settings(hass: HomeAssistant, options: Mapping[str, Any]) -> RecordingSettings:
    """Return the settings an entry's options describe, defaults filled in."""
    return RecordingSettings(
        root=Path(options.get(CONF_STORAGE_ROOT) or default_storage_root(hass)),
        triggers=frozenset(options.get(CONF_RECORD_TRIGGERS, DEFAULT_RECORD_TRIGGERS)),
        pre_roll=float(options.get(CONF_PRE_ROLL, DEFAULT_PRE_ROLL)),
        post_roll=float(options.get(CONF_POST_ROLL, DEFAULT_POST_ROLL)),
        max_clip_length=float(options.get(CONF_MAX_CLIP_LENGTH, DEFAULT_MAX_CLIP_LENGTH)),
        retention_hours=float(options.get(CONF_RETENTION_HOURS, DEFAULT_RETENTION_HOURS)),
        max_storage_gb=float(options.get(CONF_MAX_STORAGE_GB, DEFAULT_MAX_STORAGE_GB)),
        min_free_gb=float(options.get(CONF_MIN_FREE_GB, DEFAULT_MIN_FREE_GB)),
    )
