"""WebRTC's STUN server: a repair notice when a browser would ask Home Assistant's public one.

When Home Assistant plays a camera over WebRTC (go2rtc, or another WebRTC provider), the
browser and go2rtc get the ICE servers the camera's WebRTC client configuration lists. With
none configured, `web_rtc.async_get_ice_servers` puts Home Assistant's public STUN server
there (an empty `ice_servers: []` too), so that server learns the home's public address
whenever someone opens the live view. ICE servers are set only in configuration.yaml, so the
fix cannot be automatic: the repair flow explains what to add, and checks again.
"""

from __future__ import annotations

from typing import Final

from homeassistant.components.camera import Camera
from homeassistant.components.camera.const import StreamType
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.loader import async_get_integration

from .const import DOMAIN
from .issues import async_raise_issue

DEFAULT_STUN_HOST: Final = "stun.home-assistant.io"  # what web_rtc hands out by default
ISSUE_DEFAULT_STUN: Final = "default_stun"
README_SECTION: Final = "webrtc-and-stun"  # the README heading the notice links to


def issue_id(serial: str) -> str:
    """Return the id of the notice about one doorbell's camera."""
    return f"{ISSUE_DEFAULT_STUN}_{serial}"


def contacts_default_stun(camera: Camera) -> bool:
    """Tell whether playing the camera over WebRTC would send the browser to the public server."""
    if StreamType.WEB_RTC not in camera.camera_capabilities.frontend_stream_types:
        return False  # HLS only: no ICE servers are handed out
    servers = camera.async_get_webrtc_client_configuration().configuration.ice_servers
    return any(
        _host(url) == DEFAULT_STUN_HOST
        for server in servers
        for url in ([server.urls] if isinstance(server.urls, str) else server.urls)
    )


def _host(url: str) -> str:
    """Return the host of a STUN or TURN URL (`stun:host:port`, `turn:[::1]?transport=tcp`)."""
    rest = url.partition(":")[2].partition("?")[0]
    if rest.startswith("["):
        return rest[1:].partition("]")[0]
    return rest.partition(":")[0].lower()


async def async_check_default_stun(hass: HomeAssistant, camera: Camera, serial: str) -> bool:
    """Raise or clear the notice about one camera; return whether it stands."""
    if not contacts_default_stun(camera):
        ir.async_delete_issue(hass, DOMAIN, issue_id(serial))
        return False
    documentation = (await async_get_integration(hass, DOMAIN)).documentation
    async_raise_issue(
        hass,
        issue_id(serial),
        ISSUE_DEFAULT_STUN,
        {"entity_id": camera.entity_id, "server": DEFAULT_STUN_HOST},
        fix_data={"entity_id": camera.entity_id, "serial": serial},
        learn_more_url=f"{documentation}#{README_SECTION}" if documentation else None,
    )
    return True
