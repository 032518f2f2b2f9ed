"""Connecting a config entry to its doorbell: egress checks, probing, errors mapped for setup."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
import logging
from pathlib import Path

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .devices.base import CannotConnect, CloudSwitch, DeviceInfo, InvalidAuth, StreamUrls
from .devices.dahua import DahuaDoorbell
from .privacy.egress import (
    EgressRefused,
    UnresolvableHost,
    check_host,
    local_only_session,
    with_address,
)
from .recording.storage import StorageError, validate_root
from .runtime import LocalDoorbellConfigEntry
from .settings import RecordingSettings, recording_settings

_LOGGER = logging.getLogger(__name__)

ISSUE_EGRESS_REFUSED = "egress_refused"


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """A probed doorbell, ready for the runtime."""

    device: DahuaDoorbell
    info: DeviceInfo
    urls: StreamUrls
    cloud_enabled: bool | None  # None: the device has no local cloud switch
    settings: RecordingSettings


async def async_connect(hass: HomeAssistant, entry: LocalDoorbellConfigEntry) -> Connection:
    """Check the address, probe the device and the storage root; raise what setup expects."""
    host: str = entry.data[CONF_HOST]
    port: int = entry.data[CONF_PORT]
    placeholders = {"host": host}
    try:
        address = (await check_host(host, port))[0]
    except EgressRefused as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="not_local",
            translation_placeholders={**placeholders, "address": err.address},
        ) from err
    except UnresolvableHost as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders=placeholders,
        ) from err
    session = local_only_session(partial(_async_refused, hass, entry))
    entry.async_on_unload(session.close)
    device = DahuaDoorbell(
        session, host, port, entry.data[CONF_USERNAME], entry.data[CONF_PASSWORD]
    )
    try:
        info = await device.probe()
        urls = await device.stream_urls()
        cloud_enabled = await device.cloud_enabled() if isinstance(device, CloudSwitch) else None
    except InvalidAuth as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="invalid_auth",
            translation_placeholders=placeholders,
        ) from err
    except CannotConnect as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders=placeholders,
        ) from err
    ir.async_delete_issue(hass, DOMAIN, f"{ISSUE_EGRESS_REFUSED}_{entry.entry_id}")
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
    # FFmpeg resolves names itself: hand it the checked address, never the name.
    checked = StreamUrls(main=with_address(urls.main, address), sub=with_address(urls.sub, address))
    return Connection(
        device=device, info=info, urls=checked, cloud_enabled=cloud_enabled, settings=settings
    )


@callback
def _async_refused(
    hass: HomeAssistant, entry: LocalDoorbellConfigEntry, refused: EgressRefused
) -> None:
    """Log a refused connection and tell the owner; the connection itself fails."""
    _LOGGER.error("Refused to connect to %s: %s", refused.host, refused)
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{ISSUE_EGRESS_REFUSED}_{entry.entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_EGRESS_REFUSED,
        translation_placeholders={"host": refused.host, "address": refused.address},
    )
