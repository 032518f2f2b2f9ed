"""Retention per trigger inside Home Assistant: real clips of the virtual doorbell."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from homeassistant.components.media_source import async_browse_media
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.local_doorbell.const import (
    CONF_RECORD_TRIGGERS,
    CONF_RETENTION_MOTION_HOURS,
    DOMAIN,
)
from custom_components.local_doorbell.recording.archive.library import Clip, Library
from tests.helpers.clips import MEDIA_ROOT, children
from virtual_doorbell import VirtualDoorbell

from .conftest import current, entity_id, wait_for


async def _clip(hass: HomeAssistant, library: Library, events: Awaitable[None]) -> Clip:
    """Record one clip of some events and return it once it is indexed."""
    before = {clip.id for clip in await hass.async_add_executor_job(library.clips)}
    await events

    def new() -> list[Clip]:
        return [clip for clip in library.clips() if clip.id not in before]

    async with asyncio.timeout(30):
        while not (found := await hass.async_add_executor_job(new)):
            await asyncio.sleep(0.05)
    (clip,) = found
    return clip


async def _motion(doorbell: VirtualDoorbell, *, press_during: bool = False) -> None:
    """Start and stop motion, with a press in between if asked."""
    doorbell.motion(True)
    if press_during:
        await asyncio.sleep(0.3)
        doorbell.press()
    doorbell.motion(False)


async def _press(doorbell: VirtualDoorbell) -> None:
    """Press the button."""
    doorbell.press()


async def test_motion_clips_go_first_and_a_ring_keeps_its_clip(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    assert await async_setup_component(hass, "media_source", {})
    serial = doorbell.state.serial
    options = {**entry.options, CONF_RECORD_TRIGGERS: ["ring", "motion"]}
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await wait_for(lambda: doorbell.state.counters.event_clients >= 1)
    library: Library = entry.runtime_data.clips.library
    await wait_for(lambda: entry.runtime_data.clips.recorder.connected, 20)
    await asyncio.sleep(1.5)  # a keyframe of pre-roll

    motion = await _clip(hass, library, _motion(doorbell))
    both = await _clip(hass, library, _motion(doorbell, press_during=True))
    watched = await _clip(hass, library, _motion(doorbell))
    await asyncio.sleep(3)  # the driver takes presses within 3 s for one ring
    ring = await _clip(hass, library, _press(doorbell))
    await hass.services.async_call(DOMAIN, "protect_clip", {"clip_id": watched.id}, blocking=True)
    assert motion.triggers == {"motion"}
    assert ring.triggers == {"ring"}
    assert both.triggers == {"motion", "ring"}

    # The media browser says what each clip was and until when it is kept.
    days = await async_browse_media(hass, f"{MEDIA_ROOT}/{serial}")
    titles = {
        item.media_content_id.rsplit(":", 1)[1]: item.title
        for item in children(await async_browse_media(hass, children(days)[0].media_content_id))
    }
    assert " · motion · " in titles[motion.id]
    assert " · motion + ring · " in titles[both.id]
    assert " · kept until " in titles[both.id]
    assert titles[watched.id].endswith(" · protected")

    # Motion clips are now kept for about a second; ring clips for the default 72 hours.
    options = {**options, CONF_RETENTION_MOTION_HOURS: 0.0003}
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_reload(entry.entry_id)
    library = entry.runtime_data.clips.library
    kept = {clip.id for clip in await hass.async_add_executor_job(library.clips, serial)}
    # The motion clip goes; the ring clip of the same age, the clip a ring extended and the
    # protected one stay.
    assert kept == {ring.id, both.id, watched.id}
    motion_sensor = entity_id(hass, "sensor", serial, "retention_motion")
    ring_sensor = entity_id(hass, "sensor", serial, "retention_ring")
    assert float(current(hass, motion_sensor).state) == 0.0003
    assert float(current(hass, ring_sensor).state) == 72
    assert current(hass, ring_sensor).attributes["unit_of_measurement"] == "h"
