"""Constants of the Local Doorbell integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "local_doorbell"
DEFAULT_PORT: Final = 80
DEFAULT_USERNAME: Final = "admin"
EVENT_RING: Final = "ring"

# Options (recording and retention); defaults and reasons in DESIGN.md.
CONF_STORAGE_ROOT: Final = "storage_root"
CONF_RECORD_TRIGGERS: Final = "record_triggers"
CONF_PRE_ROLL: Final = "pre_roll"
CONF_POST_ROLL: Final = "post_roll"
CONF_MAX_CLIP_LENGTH: Final = "max_clip_length"
CONF_RETENTION_HOURS: Final = "retention_hours"
CONF_MAX_STORAGE_GB: Final = "max_storage_gb"
CONF_MIN_FREE_GB: Final = "min_free_gb"

TRIGGER_RING: Final = "ring"
TRIGGER_MOTION: Final = "motion"
TRIGGER_PERSON: Final = "person"
RECORD_TRIGGERS: Final = (TRIGGER_RING, TRIGGER_MOTION, TRIGGER_PERSON)

DEFAULT_RECORD_TRIGGERS: Final = [TRIGGER_RING]
DEFAULT_PRE_ROLL: Final = 5
DEFAULT_POST_ROLL: Final = 10
DEFAULT_MAX_CLIP_LENGTH: Final = 120
DEFAULT_RETENTION_HOURS: Final = 72  # the European data-protection authorities' guideline
DEFAULT_MAX_STORAGE_GB: Final = 0  # no cap
DEFAULT_MIN_FREE_GB: Final = 1.0  # never fill the disk Home Assistant runs on

CONF_KEEP_CLOUD_OFF: Final = "keep_vendor_cloud_off"
DEFAULT_KEEP_CLOUD_OFF: Final = True


def signal_state_changed(serial: str) -> str:
    """Return the dispatcher signal that asks a doorbell's entities to write their state."""
    return f"{DOMAIN}_state_changed_{serial}"


# How the entry reaches its doorbell.
CONF_PROTOCOL: Final = "protocol"
CONF_RTSP_PORT: Final = "rtsp_port"
CONF_STREAM_URL: Final = "stream_url"
CONF_SNAPSHOT_URL: Final = "snapshot_url"
CONF_BUTTON_ENTITY: Final = "button_entity"
CONF_MOTION_ENTITY: Final = "motion_entity"
