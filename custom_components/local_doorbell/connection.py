"""Connecting a config entry to its doorbell: egress checks, probing, errors mapped for setup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
import logging
from typing import Any

from aiohttp import ClientSession
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import (
    CONF_MOTION_ENTITY,
    CONF_PROTOCOL,
    CONF_RTSP_PORT,
    CONF_SNAPSHOT_URL,
    CONF_STREAM_URL,
    DOMAIN,
)
from .devices.base import (
    CloudSwitch,
    DeviceIdentity,
    DoorbellDevice,
    UnsupportedStream,
    host_and_port,
    url_host,
)
from .devices.detect import DeviceApi, network_device
from .devices.generic import GenericDoorbell
from .devices.rtsp_relay import RtspRelay
from .errors import error_placeholders, setup_errors
from .issues import async_raise_issue
from .models import LocalDoorbellConfigEntry
from .privacy.egress import EgressRefused, check_host, local_only_session

_LOGGER = logging.getLogger(__name__)

ISSUE_EGRESS_REFUSED = "egress_refused"
ISSUE_UNSUPPORTED_STREAM = "unsupported_stream"


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """A probed doorbell, ready for the runtime model."""

    device: DoorbellDevice
    identity: DeviceIdentity
    stream_url: str  # the main stream, through the loopback relay
    cloud_enabled: bool | None  # None: the device has no local cloud switch
    configuration_url: str | None


def entry_protocol(data: Mapping[str, Any]) -> DeviceApi:
    """Return how an entry reaches its doorbell."""
    return DeviceApi(data[CONF_PROTOCOL])


def entry_hosts(data: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Return every host (and port) an entry's device is reached at, for the egress check."""
    if data.get(CONF_PROTOCOL) != DeviceApi.GENERIC:  # a protocol yet to detect is a network one
        return [(data[CONF_HOST], data[CONF_PORT])]
    urls = [data[CONF_STREAM_URL], *filter(None, [data.get(CONF_SNAPSHOT_URL)])]
    return [host_and_port(url) for url in urls]


def entry_device(session: ClientSession, data: Mapping[str, Any], serial: str) -> DoorbellDevice:
    """Return the driver an entry's data describe."""
    protocol = entry_protocol(data)
    if protocol is DeviceApi.GENERIC:
        return GenericDoorbell(
            session,
            stream_url=data[CONF_STREAM_URL],
            snapshot_url=data.get(CONF_SNAPSHOT_URL),
            name=data[CONF_NAME],
            serial=serial,
            has_motion=bool(data.get(CONF_MOTION_ENTITY)),
        )
    return network_device(
        protocol,
        session,
        host=data[CONF_HOST],
        port=data[CONF_PORT],
        username=data[CONF_USERNAME],
        password=data[CONF_PASSWORD],
        rtsp_port=data.get(CONF_RTSP_PORT),
    )


async def async_check_hosts(data: Mapping[str, Any]) -> None:
    """Check every host of an entry.

    Raise EgressRefused if one resolves outside the home, UnresolvableHost if one does not.
    """
    for host, port in entry_hosts(data):
        await check_host(host, port)


async def async_connect(hass: HomeAssistant, entry: LocalDoorbellConfigEntry) -> Connection:
    """Check the address and probe the device; raise what setup expects."""
    assert entry.unique_id is not None
    host = entry_hosts(entry.data)[0][0]
    placeholders = {"host": host}
    with setup_errors(placeholders):
        await async_check_hosts(entry.data)
    on_refused = partial(_async_refused, hass, entry)
    session = local_only_session(on_refused)
    entry.async_on_unload(session.close)
    device = entry_device(session, entry.data, entry.unique_id)
    with setup_errors(placeholders):
        try:
            info = await device.probe()
            urls = await device.stream_urls()
            cloud = await device.cloud_enabled() if isinstance(device, CloudSwitch) else None
        except UnsupportedStream as err:
            # The owner can change the device's stream setting: say so, and keep retrying.
            async_raise_issue(
                hass,
                f"{ISSUE_UNSUPPORTED_STREAM}_{entry.entry_id}",
                ISSUE_UNSUPPORTED_STREAM,
                {**placeholders, **error_placeholders(err)},
                severity=ir.IssueSeverity.ERROR,
            )
            raise
    for issue in (ISSUE_EGRESS_REFUSED, ISSUE_UNSUPPORTED_STREAM):
        ir.async_delete_issue(hass, DOMAIN, f"{issue}_{entry.entry_id}")
    # FFmpeg reaches the device only through the relay, and only the recorder's does: live
    # view reads the restream.
    relay = RtspRelay(on_refused)
    entry.async_on_unload(relay.close)
    return Connection(
        device=device,
        identity=info,
        stream_url=await relay.local_url(urls.main),
        cloud_enabled=cloud,
        configuration_url=_configuration_url(entry.data),
    )


def _configuration_url(data: Mapping[str, Any]) -> str | None:
    """Return the device's own web page; a generic camera's is not known."""
    if entry_protocol(data) is DeviceApi.GENERIC:
        return None
    return f"http://{url_host(data[CONF_HOST])}:{data[CONF_PORT]}/"


@callback
def _async_refused(
    hass: HomeAssistant, entry: LocalDoorbellConfigEntry, refused: EgressRefused
) -> None:
    """Log a refused connection and tell the owner; the connection itself fails."""
    _LOGGER.error("Refused to connect to %s: %s", refused.host, refused)
    async_raise_issue(
        hass,
        f"{ISSUE_EGRESS_REFUSED}_{entry.entry_id}",
        ISSUE_EGRESS_REFUSED,
        {"host": refused.host, "address": refused.address},
        severity=ir.IssueSeverity.ERROR,
    )
