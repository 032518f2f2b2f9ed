"""Local Doorbell: a doorbell on your own network, with no cloud."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .clips import ClipManager, async_acquire_library, async_release_library
from .const import CONF_KEEP_CLOUD_OFF, DEFAULT_KEEP_CLOUD_OFF, DOMAIN
from .devices.base import CannotConnect, InvalidAuth
from .devices.dahua import DahuaDoorbell, url_host
from .http import async_register_views
from .privacy.egress import EgressRefused, UnresolvableHost, check_host
from .privacy.exposure import async_guard_exposure
from .privacy.vendor_cloud import ISSUE_VENDOR_CLOUD_ON
from .recording.storage import StorageError, validate_root
from .runtime import DoorbellRuntime, LocalDoorbellConfigEntry
from .services import async_setup_services
from .settings import recording_settings

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
    return True


async def async_setup_entry(hass: HomeAssistant, entry: LocalDoorbellConfigEntry) -> bool:
    """Connect to the doorbell and set up its entities."""
    host: str = entry.data[CONF_HOST]
    port: int = entry.data[CONF_PORT]
    try:
        await check_host(host, port)
    except EgressRefused as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="not_local",
            translation_placeholders={"host": host, "address": err.address},
        ) from err
    except UnresolvableHost as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"host": host},
        ) from err
    device = DahuaDoorbell(
        async_get_clientsession(hass),
        host,
        port,
        entry.data[CONF_USERNAME],
        entry.data[CONF_PASSWORD],
    )
    try:
        info = await device.probe()
        urls = await device.stream_urls()
        cloud_enabled = await device.cloud_enabled()
    except InvalidAuth as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="invalid_auth",
            translation_placeholders={"host": host},
        ) from err
    except CannotConnect as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"host": host},
        ) from err
    settings = recording_settings(hass, entry.options)
    try:
        await hass.async_add_executor_job(
            partial(validate_root, settings.root, config_dir=Path(hass.config.config_dir))
        )
    except StorageError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="storage_unusable",
            translation_placeholders={"root": str(settings.root)},
        ) from err
    library = await async_acquire_library(hass, settings.root)
    clips = ClipManager(
        hass, serial=info.serial, stream_url=urls.main, settings=settings, library=library
    )
    runtime = DoorbellRuntime(
        device=device,
        info=info,
        urls=urls,
        configuration_url=f"http://{url_host(host)}:{port}/",
        cloud_enabled=cloud_enabled,
        clips=clips,
        keep_cloud_off=entry.options.get(CONF_KEEP_CLOUD_OFF, DEFAULT_KEEP_CLOUD_OFF),
    )
    entry.runtime_data = runtime
    if runtime.keep_cloud_off:
        await runtime.async_enforce_cloud_off(hass)
    else:
        ir.async_delete_issue(hass, DOMAIN, f"{ISSUE_VENDOR_CLOUD_ON}_{info.serial}")
    runtime.async_add_listener(clips.handle_event)
    await clips.async_start()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(async_guard_exposure(hass, info.serial))
    entry.async_create_background_task(
        hass, runtime.async_run(hass, entry), f"{DOMAIN} events {info.serial}"
    )
    return True


async def async_unload_entry(hass: HomeAssistant, entry: LocalDoorbellConfigEntry) -> bool:
    """Unload the entities and stop recording; the event task ends with the entry."""
    if not await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        return False
    clips = entry.runtime_data.clips
    await clips.async_stop()
    await async_release_library(hass, clips.settings.root)
    return True
