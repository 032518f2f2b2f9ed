"""Live view: the restream that Home Assistant's stream and go2rtc read, one per doorbell."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from .models import LocalDoorbellConfigEntry
from .rtsp.restream import Restream


async def async_start_restream(hass: HomeAssistant, entry: LocalDoorbellConfigEntry) -> Restream:
    """Start a doorbell's restream; it closes, its clients with it, when the entry unloads."""
    restream = Restream()
    await hass.async_add_executor_job(restream.open)

    async def _async_stop() -> None:
        await hass.async_add_executor_job(restream.close)

    entry.async_on_unload(_async_stop)
    return restream
