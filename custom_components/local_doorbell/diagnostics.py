"""Diagnostics: what the integration knows of the doorbell, credentials redacted."""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .const import (
    CONF_BUTTON_ENTITY,
    CONF_MOTION_ENTITY,
    CONF_SNAPSHOT_URL,
    CONF_STREAM_URL,
)
from .models import LocalDoorbellConfigEntry

TO_REDACT = {
    CONF_PASSWORD,
    CONF_USERNAME,
    CONF_HOST,
    "mac",
    "serial",
    "main",
    "sub",
    "storage_root",
    CONF_STREAM_URL,  # a generic camera's addresses carry its credentials
    CONF_SNAPSHOT_URL,
    CONF_BUTTON_ENTITY,
    CONF_MOTION_ENTITY,
}
AUDIT_REDACT = {"user_id", "user_name", "destination"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: LocalDoorbellConfigEntry
) -> dict[str, Any]:
    """Return the entry's data and runtime state, redacted."""
    runtime = entry.runtime_data
    state, audit = runtime.coordinator.data, runtime.clips.stats.audit
    entries = await hass.async_add_executor_job(partial(audit.entries, limit=50))
    return {
        "entry": async_redact_data(dict(entry.data), TO_REDACT),
        "device": async_redact_data(asdict(runtime.identity), TO_REDACT),
        "live_view": {"viewers": runtime.live.viewers},
        "connected": state.connected,
        "cloud_enabled": state.cloud_enabled,
        "active": {"motion": state.motion, "person": state.person},
        "recording": {
            "privacy_mode": runtime.clips.privacy_mode,
            "settings": async_redact_data(runtime.options.as_options(), TO_REDACT),
        },
        # Who did what to which clip; names, ids and paths stay on this machine.
        "audit": [async_redact_data(asdict(entry), TO_REDACT | AUDIT_REDACT) for entry in entries],
    }
