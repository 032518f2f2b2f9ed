"""Local Doorbell: a doorbell on your own network, with no cloud."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .backup_guard import (
    async_check_backups,
    async_recheck_backups,
    async_setup_backup_guard,
)
from .clips import ClipManager, async_acquire_library, async_release_library
from .connection import Connection, async_connect
from .const import CONF_BUTTON_ENTITY, CONF_MOTION_ENTITY, CONF_PROTOCOL, DOMAIN
from .coordinator import DoorbellCoordinator
from .devices.base import DoorbellDevice, EventKind
from .devices.detect import DeviceApi
from .devices.generic import GenericDoorbell
from .exposure import async_guard_exposure
from .generic_tracking import async_track_button
from .live import async_start_restream
from .models import LocalDoorbellConfigEntry, LocalDoorbellData
from .options import DoorbellOptions, per_trigger_retention
from .rtsp.restream import Restream
from .services import async_setup_services
from .storage_root import async_prepare_storage
from .vendor_cloud import ISSUE_VENDOR_CLOUD_ON
from .views import async_register_views

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

__all__ = ["LocalDoorbellConfigEntry"]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the clip actions and the authenticated clip views."""
    async_setup_services(hass)
    async_register_views(hass)
    async_setup_backup_guard(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: LocalDoorbellConfigEntry) -> bool:
    """Connect to the doorbell, start recording and set up its entities."""
    connection = await async_connect(hass, entry)
    options = DoorbellOptions.from_options(hass, entry.options)
    restream = await async_start_restream(hass, entry)
    clips = await _async_open_clips(hass, entry, connection, options, restream)
    coordinator = DoorbellCoordinator(
        hass,
        entry,
        connection.device,
        connection.identity,
        cloud_enabled=connection.cloud_enabled,
        keep_cloud_off=options.keep_cloud_off,
        configuration_url=connection.configuration_url,
    )
    entry.runtime_data = LocalDoorbellData(
        identity=connection.identity,
        live=restream,
        configuration_url=connection.configuration_url,
        options=clips.options,
        coordinator=coordinator,
        clips=clips,
    )
    await _async_wire(hass, entry, connection.device, coordinator, clips)
    await clips.async_start()
    entry.async_on_unload(
        hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, partial(_async_finish_recording, clips))
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    serial = connection.identity.serial
    entry.async_on_unload(async_guard_exposure(hass, serial))
    entry.async_create_background_task(
        hass, coordinator.async_listen(), f"{DOMAIN} events {serial}"
    )
    return True


async def _async_open_clips(
    hass: HomeAssistant,
    entry: LocalDoorbellConfigEntry,
    connection: Connection,
    options: DoorbellOptions,
    restream: Restream,
) -> ClipManager:
    """Check the storage root and open its library; return the (not yet started) recorder."""
    root, exposed = await async_prepare_storage(hass, entry, options.root)
    library = await async_acquire_library(hass, root)
    clips = ClipManager(
        hass,
        entry,
        serial=connection.identity.serial,
        stream_url=connection.stream_url,
        options=replace(options, root=root),
        library=library,
        exposed=exposed,
        live=restream,
    )
    # Run at unload, and when a later step of this setup fails: the recorder must not outlive
    # its entry (its thread and the device's RTSP session would stay).
    entry.async_on_unload(partial(_async_close, hass, clips))
    await async_check_backups(hass, root)
    return clips


async def _async_wire(
    hass: HomeAssistant,
    entry: LocalDoorbellConfigEntry,
    device: DoorbellDevice,
    coordinator: DoorbellCoordinator,
    clips: ClipManager,
) -> None:
    """Keep the vendor cloud off if asked, and let the events that trigger clips reach them."""
    options = clips.options
    if options.keep_cloud_off:
        await coordinator.async_enforce_cloud_off()
    else:
        ir.async_delete_issue(hass, DOMAIN, f"{ISSUE_VENDOR_CLOUD_ON}_{clips.serial}")
    for kind in options.triggers - {EventKind.RING}:
        entry.async_on_unload(coordinator.async_subscribe_event(kind, clips.handle_event))
    entry.async_on_unload(coordinator.async_subscribe_event(EventKind.RING, clips.rings.handle))
    if isinstance(device, GenericDoorbell):  # its button and motion are other entities
        entry.async_on_unload(
            async_track_button(
                hass,
                device,
                entry.data[CONF_BUTTON_ENTITY],
                entry.data.get(CONF_MOTION_ENTITY),
            )
        )


async def async_migrate_entry(hass: HomeAssistant, entry: LocalDoorbellConfigEntry) -> bool:
    """Bring an entry of an earlier release up to date.

    1.1 to 1.2: name the protocol of entries made when Dahua was the only one. 1.2 to 1.3: the
    one retention time becomes each trigger's.
    """
    if entry.version > 1:
        return False  # made by a newer release (2026.2 asks us; later releases refuse it)
    data, options = dict(entry.data), dict(entry.options)
    if entry.minor_version < 2:
        data[CONF_PROTOCOL] = DeviceApi.DAHUA
    if entry.minor_version < 3:
        options = per_trigger_retention(options)
    hass.config_entries.async_update_entry(entry, data=data, options=options, minor_version=3)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: LocalDoorbellConfigEntry) -> bool:
    """Unload the entities; recording stops, and the event task ends, with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def _async_finish_recording(clips: ClipManager, _: Event) -> None:
    """Finish the open clip at shutdown, while the relay it reads through still runs."""
    await clips.async_stop()


async def _async_close(hass: HomeAssistant, clips: ClipManager) -> None:
    """Stop recording and let go of the library (the last doorbell using it closes it)."""
    await clips.async_stop()
    await async_release_library(hass, clips.options.root)
    await async_recheck_backups(hass)
