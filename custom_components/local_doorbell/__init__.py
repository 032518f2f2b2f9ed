"""Local Doorbell: a doorbell on your own network, with no cloud."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import DOMAIN
from .devices.base import CannotConnect, InvalidAuth
from .devices.dahua import DahuaDoorbell
from .privacy.egress import EgressRefused, UnresolvableHost, check_host
from .runtime import DoorbellRuntime, LocalDoorbellConfigEntry

PLATFORMS = [Platform.BINARY_SENSOR, Platform.CAMERA, Platform.EVENT]

__all__ = ["LocalDoorbellConfigEntry"]


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
    runtime = DoorbellRuntime(
        device=device,
        info=info,
        urls=urls,
        configuration_url=f"http://{host}:{port}/",
        cloud_enabled=cloud_enabled,
    )
    entry.runtime_data = runtime
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_create_background_task(
        hass, runtime.async_run(hass, entry), f"{DOMAIN} events {info.serial}"
    )
    return True


async def async_unload_entry(hass: HomeAssistant, entry: LocalDoorbellConfigEntry) -> bool:
    """Unload the entities; the event task ends with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
