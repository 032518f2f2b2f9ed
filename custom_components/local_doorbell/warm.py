"""Warm on ring: start the camera's live stream on a press, before anyone asks for it.

Home Assistant's stream keeps an HLS output only while a player fetches it: every request
wakes the output's idle timer, and `OUTPUT_IDLE_TIMEOUT` (30 s) without one removes the
output and, with the last one, stops the worker that reads the camera. The warmer starts the
stream as `camera/stream` does (create, add the HLS output, start) and wakes the idle timer as
a player's requests do, until the window ends. It never stops anything itself: the last wake
comes `OUTPUT_IDLE_TIMEOUT` before the window's end, so the stream stops when the window ends
unless someone watches, and a viewer's own requests keep it as they keep any stream.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import logging
from typing import Final

from homeassistant.components.camera import Camera
from homeassistant.components.stream import Stream
from homeassistant.components.stream.const import HLS_PROVIDER, OUTPUT_IDLE_TIMEOUT
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later, async_track_time_interval

from .devices.base import DoorbellEvent

_LOGGER = logging.getLogger(__name__)

# Well inside the idle timeout, so a late wake never lets the output idle out mid-window.
WAKE_EVERY: Final = timedelta(seconds=OUTPUT_IDLE_TIMEOUT / 3)


class StreamWarmer:
    """Keeps one camera's HLS stream running for a window after each press (or motion)."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, camera: Camera, window: float
    ) -> None:
        """Warm `camera` for `window` seconds after each event handed to `handle_event`."""
        self._hass = hass
        self._entry = entry
        self._camera = camera
        self._window = window
        self._cancel_end: CALLBACK_TYPE | None = None
        self._cancel_ticks: CALLBACK_TYPE | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._failing = False

    @callback
    def handle_event(self, event: DoorbellEvent) -> None:
        """Warm the stream on a press or a motion start; a later one extends the window."""
        if not event.active:
            return
        self._cancel_timers()
        self._wake()
        # The output's own idle timer covers the window's last OUTPUT_IDLE_TIMEOUT seconds.
        if (keep := self._window - OUTPUT_IDLE_TIMEOUT) > 0:
            self._cancel_end = async_call_later(self._hass, keep, self._end)
            self._cancel_ticks = async_track_time_interval(self._hass, self._tick, WAKE_EVERY)

    async def async_stop(self) -> None:
        """Stop warming; a wake under way is cancelled, so nothing starts after unload."""
        self._cancel_timers()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @callback
    def _tick(self, _now: datetime) -> None:
        self._wake()

    @callback
    def _end(self, _now: datetime) -> None:
        """Wake the stream a last time: it idles out when the window ends, unless watched."""
        self._cancel_timers()
        self._wake()

    @callback
    def _cancel_timers(self) -> None:
        for cancel in (self._cancel_end, self._cancel_ticks):
            if cancel is not None:
                cancel()
        self._cancel_end = self._cancel_ticks = None

    @callback
    def _wake(self) -> None:
        # Short-lived, and eager: a running stream is woken before this returns.
        task = self._entry.async_create_task(
            self._hass, self._async_wake(), f"warm {self._camera.entity_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _async_wake(self) -> None:
        """Start the stream with an HLS output if it is not running; push its idle time out."""
        try:
            stream: Stream | None = await self._camera.async_create_stream()
        except (HomeAssistantError, TimeoutError) as err:
            # Stream is not set up (no default_config), or the source did not come in time.
            if not self._failing:
                _LOGGER.warning("Cannot warm the live view of %s: %s", self._camera.entity_id, err)
            self._failing = True
            return
        self._failing = False
        if stream is None:
            return
        output = stream.add_provider(HLS_PROVIDER)
        await stream.start()
        output.idle_timer.awake()
