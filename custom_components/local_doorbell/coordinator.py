"""Push coordinators: one doorbell's live state and event subscriptions, and its clip statistics."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
import logging
from pathlib import Path

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .const import DOMAIN
from .devices.base import (
    CloudSwitch,
    DeviceIdentity,
    DoorbellDevice,
    DoorbellEvent,
    EventKind,
    InvalidAuth,
)
from .privacy.audit import AuditAction, AuditLog
from .recording.archive.library import Clip, Library, UnsafePath
from .vendor_cloud import async_enforce_cloud_off

_LOGGER = logging.getLogger(__name__)

type EventCallback = Callable[[DoorbellEvent], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class DoorbellState:
    """What the device last pushed: its connection, motion, person and its own cloud."""

    connected: bool = True
    motion: bool = False
    person: bool = False
    cloud_enabled: bool | None = None  # None: unknown, or no local cloud switch


class DoorbellCoordinator(DataUpdateCoordinator[DoorbellState]):
    """Fed by the driver's event loop; hands each event to those subscribed to its kind."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        device: DoorbellDevice,
        identity: DeviceIdentity,
        *,
        cloud_enabled: bool | None,
        keep_cloud_off: bool,
        configuration_url: str | None,
    ) -> None:
        """Start from the probed state; nothing runs before `async_listen()`."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} {identity.serial}")
        self.device = device
        self.identity = identity
        self.keep_cloud_off = keep_cloud_off
        self.configuration_url = configuration_url
        self.data = DoorbellState(cloud_enabled=cloud_enabled)
        self._subscribers: defaultdict[EventKind, set[EventCallback]] = defaultdict(set)

    async def _async_update_data(self) -> DoorbellState:
        """Return the state as last pushed: the device is never polled."""
        return self.data

    @callback
    def async_subscribe_event(self, kind: EventKind, handler: EventCallback) -> CALLBACK_TYPE:
        """Call `handler` on each event of one kind; return the function that stops it."""
        self._subscribers[kind].add(handler)
        return lambda: self._subscribers[kind].discard(handler)

    async def async_listen(self) -> None:
        """Consume the device's events until unload; start reauthentication when refused."""
        try:
            async for event in self.device.events():
                self._async_handle(event)
        except InvalidAuth:
            _LOGGER.warning("%s refused the stored credentials", self.identity.model)
            self._async_handle(DoorbellEvent(kind=EventKind.OFFLINE))
            self.config_entry.async_start_reauth(self.hass)

    @callback
    def _async_handle(self, event: DoorbellEvent) -> None:
        """Update the state, then tell the event's subscribers."""
        state = self.data
        if event.kind is EventKind.ONLINE:
            state = replace(state, connected=True)
        elif event.kind is EventKind.OFFLINE:
            # Nothing is known about motion while the device cannot tell us.
            state = replace(state, connected=False, motion=False, person=False)
        elif event.kind is EventKind.MOTION:
            state = replace(state, motion=event.active)
        elif event.kind is EventKind.PERSON:
            state = replace(state, person=event.active)
        if state.connected != self.data.connected:
            self._log_connection(state.connected)
        if state != self.data:
            self.async_set_updated_data(state)
        for handler in list(self._subscribers[event.kind]):
            handler(event)

    def _log_connection(self, connected: bool) -> None:
        """Log the first loss and the recovery, not every retry in between."""
        model, serial = self.identity.model, self.identity.serial
        if not connected:
            _LOGGER.warning("%s (%s) is unreachable", model, serial)
            return
        _LOGGER.info("%s (%s) is back online", model, serial)
        if self.keep_cloud_off:
            # A reset or a firmware update can turn the vendor's cloud back on.
            self.config_entry.async_create_background_task(
                self.hass, self.async_enforce_cloud_off(), f"{DOMAIN} cloud off"
            )

    async def async_enforce_cloud_off(self) -> None:
        """Turn the device's own cloud off and keep what it reports afterwards."""
        if not isinstance(self.device, CloudSwitch):
            return
        enabled = await async_enforce_cloud_off(
            self.hass,
            self.device,
            serial=self.identity.serial,
            model=self.identity.model,
            url=self.configuration_url,
        )
        self.async_set_updated_data(replace(self.data, cloud_enabled=enabled))


@dataclass(frozen=True, slots=True, kw_only=True)
class ClipStats:
    """What the recording entities show, read from the library and audit in one job."""

    count: int
    size: int
    latest: Clip | None
    last_ring: tuple[datetime, Path] | None  # when the newest ring clip began, its thumbnail
    last_export: datetime | None


class ClipStatsCoordinator(DataUpdateCoordinator[ClipStats]):
    """One doorbell's clip statistics, read anew whenever its clips or their audit change."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        library: Library,
        audit: AuditLog,
        serial: str,
    ) -> None:
        """Read nothing before the first refresh."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} clips {serial}")
        self.library = library
        self.audit = audit
        self.serial = serial

    async def _async_update_data(self) -> ClipStats:
        """Read the statistics in the executor."""
        return await self.hass.async_add_executor_job(self._read)

    def _read(self) -> ClipStats:
        count, size = self.library.totals(self.serial)
        export = self.audit.last(AuditAction.EXPORT)
        return ClipStats(
            count=count,
            size=size,
            latest=self.library.latest(self.serial),
            last_ring=self._latest_thumbnail(EventKind.RING),
            last_export=export.at if export else None,
        )

    def _latest_thumbnail(self, trigger: EventKind) -> tuple[datetime, Path] | None:
        """Return when the newest clip of a trigger began, and its thumbnail (blocking)."""
        clip = self.library.latest(self.serial, trigger.value)
        if clip is None:
            return None
        try:
            thumbnail = self.library.thumbnail_of(clip)
        except UnsafePath:
            _LOGGER.warning("Clip %s names a thumbnail outside the storage root", clip.id)
            return None
        return None if thumbnail is None else (clip.start, thumbnail)
