"""Keep the doorbell's own cloud (P2P) service off, and say so when that is not possible."""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .devices.base import CloudSwitch, DoorbellError
from .issues import async_raise_issue

_LOGGER = logging.getLogger(__name__)

ISSUE_VENDOR_CLOUD_ON = "vendor_cloud_on"


async def async_enforce_cloud_off(
    hass: HomeAssistant, device: CloudSwitch, *, serial: str, model: str, url: str | None
) -> bool | None:
    """Turn the service off over the local API and read it back; return its state."""
    enabled: bool | None
    try:
        if await device.cloud_enabled():
            await device.disable_cloud()
            _LOGGER.info("Turned off the vendor cloud service of %s", model)
        enabled = await device.cloud_enabled()
    except DoorbellError as err:
        _LOGGER.warning("Could not turn off the vendor cloud service of %s: %s", model, err)
        enabled = None
    issue_id = f"{ISSUE_VENDOR_CLOUD_ON}_{serial}"
    if enabled is False:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    else:
        async_raise_issue(
            hass, issue_id, ISSUE_VENDOR_CLOUD_ON, {"model": model, "url": url or "-"}
        )
    return enabled
