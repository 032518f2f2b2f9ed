"""One doorbell's live state in Home Assistant: the event loop, availability and listeners."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from .clips import ClipManager
from .const import DOMAIN
from .devices.base import (
    CloudSwitch,
    DeviceInfo,
    DoorbellDevice,
    DoorbellEvent,
    EventKind,
    InvalidAuth,
    StreamUrls,
)
from .privacy.vendor_cloud import async_enforce_cloud_off

_LOGGER = logging.getLogger(__name__)

type EventListener = Callable[[DoorbellEvent], None]


@dataclass(slots=True, kw_only=True)
class DoorbellRuntime:
    """What the platforms of one config entry read and listen to."""

    device: DoorbellDevice
    info: DeviceInfo
    urls: StreamUrls
    configuration_url: str | None
    cloud_enabled: bool | None
    clips: ClipManager
    keep_cloud_off: bool
    connected: bool = True
    active: dict[EventKind, bool] = field(default_factory=dict)
    _listeners: set[EventListener] = field(default_factory=set)

    @callback
    def async_add_listener(self, listener: EventListener) -> CALLBACK_TYPE:
        """Call `listener` on every event; return the function that stops it."""
        self._listeners.add(listener)
        return lambda: self._listeners.discard(listener)

    @callback
    def _dispatch(self, event: DoorbellEvent) -> None:
        if event.kind in (EventKind.MOTION, EventKind.PERSON):
            self.active[event.kind] = event.active
        for listener in list(self._listeners):
            listener(event)

    async def async_run(self, hass: HomeAssistant, entry: LocalDoorbellConfigEntry) -> None:
        """Consume the device's events until unload; start reauthentication when refused."""
        try:
            async for event in self.device.events():
                if event.kind is EventKind.ONLINE:
                    if self._set_connected(True) and self.keep_cloud_off:
                        # A reset or a firmware update can turn the vendor's cloud back on.
                        entry.async_create_background_task(
                            hass, self.async_enforce_cloud_off(hass), f"{DOMAIN} cloud off"
                        )
                elif event.kind is EventKind.OFFLINE:
                    self._set_connected(False)
                self._dispatch(event)
        except InvalidAuth:
            _LOGGER.warning("%s refused the stored credentials", self.info.model)
            self._set_connected(False)
            self._dispatch(DoorbellEvent(kind=EventKind.OFFLINE))
            entry.async_start_reauth(hass)

    async def async_enforce_cloud_off(self, hass: HomeAssistant) -> None:
        """Turn the device's own cloud off and record what it reports afterwards."""
        if not isinstance(self.device, CloudSwitch):
            return
        self.cloud_enabled = await async_enforce_cloud_off(
            hass,
            self.device,
            serial=self.info.serial,
            model=self.info.model,
            url=self.configuration_url,
        )

    def _set_connected(self, connected: bool) -> bool:
        """Log the first loss and the recovery, not every retry in between; tell if it changed."""
        if connected == self.connected:
            return False
        self.connected = connected
        if connected:
            _LOGGER.info("%s (%s) is back online", self.info.model, self.info.serial)
        else:
            _LOGGER.warning("%s (%s) is unreachable", self.info.model, self.info.serial)
            # Nothing is known about motion while the device cannot tell us.
            self.active.clear()
        return True


type LocalDoorbellConfigEntry = ConfigEntry[DoorbellRuntime]
