"""Diagnostics: what the integration knows of the doorbell, credentials redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .runtime import LocalDoorbellConfigEntry

TO_REDACT = {CONF_PASSWORD, CONF_USERNAME, CONF_HOST, "mac", "serial", "main", "sub"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: LocalDoorbellConfigEntry
) -> dict[str, Any]:
    """Return the entry's data and runtime state, redacted."""
    runtime = entry.runtime_data
    return {
        "entry": async_redact_data(dict(entry.data), TO_REDACT),
        "device": async_redact_data(asdict(runtime.info), TO_REDACT),
        "stream_urls": async_redact_data(asdict(runtime.urls), TO_REDACT),
        "connected": runtime.connected,
        "cloud_enabled": runtime.cloud_enabled,
        "active": {kind.value: value for kind, value in runtime.active.items()},
    }
