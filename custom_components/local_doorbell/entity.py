"""The base entity: one device per doorbell, availability from the event connection."""

from __future__ import annotations

from homeassistant.core import callback
from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription

from .clips import signal_stats_updated
from .const import DOMAIN, signal_state_changed
from .devices.base import DoorbellEvent, EventKind
from .runtime import DoorbellRuntime, LocalDoorbellConfigEntry


class LocalDoorbellEntity(Entity):
    """An entity of one doorbell, updated by its events."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, entry: LocalDoorbellConfigEntry, description: EntityDescription) -> None:
        """Describe the entity and the device it belongs to."""
        self.runtime: DoorbellRuntime = entry.runtime_data
        info = self.runtime.info
        self.entity_description = description
        self._attr_unique_id = f"{info.serial}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, info.serial)},
            connections={(CONNECTION_NETWORK_MAC, info.mac)} if info.mac else set(),
            name=entry.title,
            manufacturer=info.manufacturer,
            model=info.model,
            serial_number=info.serial,
            sw_version=info.firmware,
            configuration_url=self.runtime.configuration_url,
        )

    @property
    def available(self) -> bool:
        """Tell whether the device's event channel is up."""
        return self.runtime.connected

    async def async_added_to_hass(self) -> None:
        """Listen to the device's events."""
        await super().async_added_to_hass()
        self.async_on_remove(self.runtime.async_add_listener(self._handle_event))
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_state_changed(self.runtime.info.serial), self.async_write_ha_state
            )
        )

    def _handle_event(self, event: DoorbellEvent) -> None:
        """Write the state when the connection changes; subclasses add their own events."""
        if event.kind in (EventKind.ONLINE, EventKind.OFFLINE):
            self.async_write_ha_state()


class LocalDoorbellStatsEntity(LocalDoorbellEntity):
    """An entity showing the doorbell's recordings; they stay readable while it is away."""

    @property
    def available(self) -> bool:
        """Tell whether the statistics have been read."""
        return self.runtime.clips.stats is not None

    async def async_added_to_hass(self) -> None:
        """Write the state whenever the statistics are read anew."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_stats_updated(self.runtime.info.serial),
                self._async_stats_updated,
            )
        )

    @callback
    def _async_stats_updated(self) -> None:
        self.async_write_ha_state()
