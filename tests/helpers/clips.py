"""Recording one clip inside Home Assistant and finding it in the media browser."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from homeassistant.components.media_player import BrowseMedia
from homeassistant.components.media_source import async_browse_media
from homeassistant.core import HomeAssistant

from custom_components.local_doorbell.const import DOMAIN
from tests.integration.conftest import current, entity_id, wait_for
from virtual_doorbell import VirtualDoorbell

MEDIA_ROOT = f"media-source://{DOMAIN}"


async def record_one(hass: HomeAssistant, doorbell: VirtualDoorbell) -> str:
    """Press once and wait for the clip; return its media id."""
    count = entity_id(hass, "sensor", doorbell.state.serial, "clip_count")
    before = int(current(hass, count).state)
    # The recorder needs a keyframe of pre-roll before the press.
    await wait_for(lambda: doorbell.state.counters.rtsp_sessions >= 1)
    await asyncio.sleep(1.5)
    doorbell.press()
    await wait_for(lambda: int(current(hass, count).state) == before + 1, 30)
    serial = doorbell.state.serial
    days = await async_browse_media(hass, f"{MEDIA_ROOT}/{serial}")
    clips = await async_browse_media(hass, children(days)[0].media_content_id)
    return str(children(clips)[0].media_content_id)


def children(item: BrowseMedia) -> Sequence[BrowseMedia]:
    """Return a browsed item's children, which it must have."""
    assert item.children is not None
    return item.children
