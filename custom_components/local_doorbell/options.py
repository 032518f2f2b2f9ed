"""An entry's options, parsed once, in one place, with the one set of defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

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
    CONF_RETENTION_MOTION_HOURS,
    CONF_RETENTION_PERSON_HOURS,
    CONF_RETENTION_RING_HOURS,
    CONF_STORAGE_ROOT,
    CONF_WARM_ON_MOTION,
    CONF_WARM_SECONDS,
)
from .devices.base import EventKind
from .recording.archive.retention import GIB, RetentionPolicy
from .recording.archive.storage import default_root

# The events the owner may record, and the defaults (reasons in DESIGN.md and the README).
RECORD_TRIGGERS: Final = (EventKind.RING, EventKind.MOTION, EventKind.PERSON)
RETENTION_KEYS: Final = {
    EventKind.RING: CONF_RETENTION_RING_HOURS,
    EventKind.MOTION: CONF_RETENTION_MOTION_HOURS,
    EventKind.PERSON: CONF_RETENTION_PERSON_HOURS,
}
_POLICY: Final = RetentionPolicy()  # the recording library's own limits
assert _POLICY.max_age is not None
_GUIDELINE_HOURS: Final = _POLICY.max_age / timedelta(hours=1)  # 72
DEFAULTS: Final[Mapping[str, Any]] = {
    CONF_RECORD_TRIGGERS: [EventKind.RING.value],
    CONF_PRE_ROLL: 5,
    CONF_POST_ROLL: 10,
    CONF_MAX_CLIP_LENGTH: 120,
    # Someone chose to come to the door: the guideline's 72 hours, a weekend away.
    CONF_RETENTION_RING_HOURS: _GUIDELINE_HOURS,
    # Someone near the door who did not ring: often a passer-by, sometimes a parcel taken.
    CONF_RETENTION_PERSON_HOURS: 48,
    # Mostly cars, animals and passers-by who never came to the door: a day to look.
    CONF_RETENTION_MOTION_HOURS: 24,
    CONF_MAX_STORAGE_GB: 0,  # no cap
    CONF_MIN_FREE_GB: _POLICY.min_free_bytes / GIB,
    CONF_KEEP_CLOUD_OFF: True,
    CONF_WARM_SECONDS: 120,  # long enough to open the notification and look
    CONF_WARM_ON_MOTION: False,  # motion is frequent: each warm-up costs a stream worker
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DoorbellOptions:
    """What to record, where, for how long; the vendor cloud; how long a press warms live view."""

    root: Path
    triggers: frozenset[EventKind]
    pre_roll: float
    post_roll: float
    max_clip_length: float
    retention_hours: Mapping[EventKind, float]  # of each trigger's clips
    max_storage_gb: float  # 0: no cap
    min_free_gb: float
    keep_cloud_off: bool
    warm_seconds: float  # 0: off
    warm_on_motion: bool

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
            retention_hours={kind: float(merged[key]) for kind, key in RETENTION_KEYS.items()},
            max_storage_gb=float(merged[CONF_MAX_STORAGE_GB]),
            min_free_gb=float(merged[CONF_MIN_FREE_GB]),
            keep_cloud_off=bool(merged[CONF_KEEP_CLOUD_OFF]),
            warm_seconds=float(merged[CONF_WARM_SECONDS]),
            warm_on_motion=bool(merged[CONF_WARM_ON_MOTION]),
        )

    @property
    def retention(self) -> RetentionPolicy:
        """Return the retention policy these options describe."""
        ages = {kind.value: timedelta(hours=hours) for kind, hours in self.retention_hours.items()}
        return RetentionPolicy(
            # Clips of no trigger the options name (none are recorded): the longest time.
            max_age=max(ages.values()),
            max_age_by_trigger=ages,
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
            **{key: self.retention_hours[kind] for kind, key in RETENTION_KEYS.items()},
            CONF_MAX_STORAGE_GB: self.max_storage_gb,
            CONF_MIN_FREE_GB: self.min_free_gb,
            CONF_KEEP_CLOUD_OFF: self.keep_cloud_off,
            CONF_WARM_SECONDS: self.warm_seconds,
            CONF_WARM_ON_MOTION: self.warm_on_motion,
        }

    @property
    def warm_triggers(self) -> frozenset[EventKind]:
        """Return the events that warm the live stream: none when warming is off."""
        if self.warm_seconds <= 0:
            return frozenset()
        kinds = {EventKind.RING, EventKind.MOTION} if self.warm_on_motion else {EventKind.RING}
        return frozenset(kinds)


def per_trigger_retention(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the options of an entry from before 1.3 with its one time set for every trigger.

    Its clips were all kept that long (72 hours unless the owner chose otherwise); the new
    per-trigger defaults must not shorten what the owner was told.
    """
    migrated = {key: value for key, value in options.items() if key != CONF_RETENTION_HOURS}
    hours = float(options.get(CONF_RETENTION_HOURS, _GUIDELINE_HOURS))
    return migrated | dict.fromkeys(RETENTION_KEYS.values(), hours)


def default_storage_root(hass: HomeAssistant) -> Path:
    """Return the default storage root: a folder in Home Assistant's configuration folder."""
    return default_root(Path(hass.config.config_dir))
