"""Constants of the Local Doorbell integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "local_doorbell"
DEFAULT_PORT: Final = 80
DEFAULT_USERNAME: Final = "admin"

# Options (recording and retention); defaults and reasons in DESIGN.md.
CONF_STORAGE_ROOT: Final = "storage_root"
CONF_RECORD_TRIGGERS: Final = "record_triggers"
CONF_PRE_ROLL: Final = "pre_roll"
CONF_POST_ROLL: Final = "post_roll"
CONF_MAX_CLIP_LENGTH: Final = "max_clip_length"
CONF_RETENTION_HOURS: Final = "retention_hours"  # before entry version 1.3: one for all clips
CONF_RETENTION_RING_HOURS: Final = "retention_ring_hours"
CONF_RETENTION_MOTION_HOURS: Final = "retention_motion_hours"
CONF_RETENTION_PERSON_HOURS: Final = "retention_person_hours"
CONF_MAX_STORAGE_GB: Final = "max_storage_gb"
CONF_MIN_FREE_GB: Final = "min_free_gb"

CONF_KEEP_CLOUD_OFF: Final = "keep_vendor_cloud_off"

# Options (live view): how long a press keeps the stream warm, and whether motion does too.
CONF_WARM_SECONDS: Final = "warm_seconds"
CONF_WARM_ON_MOTION: Final = "warm_on_motion"

# How the entry reaches its doorbell.
CONF_PROTOCOL: Final = "protocol"
CONF_RTSP_PORT: Final = "rtsp_port"
CONF_STREAM_URL: Final = "stream_url"
CONF_SNAPSHOT_URL: Final = "snapshot_url"
CONF_BUTTON_ENTITY: Final = "button_entity"
CONF_MOTION_ENTITY: Final = "motion_entity"
