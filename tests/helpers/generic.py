"""The generic camera's setup form, filled in for the virtual doorbell."""

from __future__ import annotations

from typing import Any

from homeassistant.const import CONF_NAME

from custom_components.local_doorbell.const import (
    CONF_BUTTON_ENTITY,
    CONF_MOTION_ENTITY,
    CONF_SNAPSHOT_URL,
    CONF_STREAM_URL,
)
from virtual_doorbell import VirtualDoorbell

BUTTON = "input_boolean.front_button"
MOTION = "input_boolean.front_motion"


def camera_input(doorbell: VirtualDoorbell, **changes: Any) -> dict[str, Any]:
    """Return the generic form's input for the virtual doorbell's stream and snapshot."""
    auth = f"{doorbell.username}:{doorbell.password}@"
    return {
        CONF_NAME: "Front door",
        CONF_STREAM_URL: doorbell.rtsp_url(),
        CONF_SNAPSHOT_URL: f"http://{auth}{doorbell.host}:{doorbell.http_port}"
        "/cgi-bin/snapshot.cgi?channel=1",
        CONF_BUTTON_ENTITY: BUTTON,
        CONF_MOTION_ENTITY: MOTION,
        **changes,
    }
