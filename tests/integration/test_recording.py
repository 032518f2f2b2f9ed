"""Recording inside Home Assistant: clips on a press, entities, media browser, views, actions."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import av
from homeassistant.components.media_player import BrowseError
from homeassistant.components.media_source import (
    Unresolvable,
    async_browse_media,
    async_resolve_media,
)
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.local_doorbell.const import CONF_POST_ROLL, DOMAIN
from tests.helpers.clips import MEDIA_ROOT, children, record_one
from virtual_doorbell import VirtualDoorbell

from ..conftest import TEST_VIDEO
from .conftest import FAST_RECORDING, current, entity_id, wait_for


async def test_clips_are_grouped_by_the_owners_day(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry, media: None
) -> None:
    # A zone whose date differs from UTC's right now, whatever the hour of the test run.
    zone = "Etc/GMT-14" if dt_util.utcnow().hour >= 10 else "Etc/GMT+12"
    await hass.config.async_set_time_zone(zone)
    media_id = await record_one(hass, doorbell)
    local_day = dt_util.now().date()
    assert local_day != dt_util.utcnow().date()
    days = await async_browse_media(hass, f"{MEDIA_ROOT}/{doorbell.state.serial}")
    assert [day.media_content_id.rsplit(":", 1)[1] for day in children(days)] == [
        local_day.isoformat()
    ]
    assert children(days)[0].title == local_day.strftime("%A, %d %B %Y")
    clips = await async_browse_media(hass, children(days)[0].media_content_id)
    assert [clip.media_content_id for clip in children(clips)] == [media_id]


async def test_press_records_a_clip_into_the_media_browser(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    media: None,
    media_dir: Path,
    config_dir: Path,
) -> None:
    serial = doorbell.state.serial
    # Before the first visitor there is no picture to link: the image view would answer 500.
    image = entity_id(hass, "image", serial, "last_visitor")
    assert "entity_picture" not in current(hass, image).attributes
    media_id = await record_one(hass, doorbell)
    assert current(hass, entity_id(hass, "sensor", serial, "last_clip")).state != STATE_UNKNOWN
    assert float(current(hass, entity_id(hass, "sensor", serial, "storage_used")).state) > 0
    # By default clips go to the configuration folder, which no media browser serves.
    assert list((config_dir / "local_doorbell" / "recordings").rglob("*.mp4"))
    assert await hass.async_add_executor_job(lambda: list(media_dir.iterdir())) == []

    root = await async_browse_media(hass, MEDIA_ROOT)
    assert [child.title for child in children(root)] == [entry.title]

    resolved = await async_resolve_media(hass, media_id, None)
    assert resolved.mime_type == "video/mp4"
    assert resolved.url.startswith(f"/api/{DOMAIN}/clips/")

    client = await hass_client()
    whole = await client.get(resolved.url)
    assert whole.status == 200
    body = await whole.read()
    with av.open(io.BytesIO(body), mode="r") as container:
        frames = list(container.decode(video=0))
    assert (frames[0].width, frames[0].height) == (TEST_VIDEO.width, TEST_VIDEO.height)
    # Seeking: the view answers Range requests.
    part = await client.get(resolved.url, headers={"Range": "bytes=100-199"})
    assert part.status == 206
    assert await part.read() == body[100:200]
    thumbnail = await client.get(resolved.url.replace("/clips/", "/thumbnails/")[:-4] + ".jpg")
    assert thumbnail.status == 200
    assert (await thumbnail.read()).startswith(b"\xff\xd8")
    # Nothing without authentication, nothing unknown, nothing malformed.
    assert (await (await hass_client_no_auth()).get(resolved.url)).status == 401
    assert (await client.get(f"/api/{DOMAIN}/clips/20261127T100000Z-ring-ffff.mp4")).status == 404
    assert (await client.get(f"/api/{DOMAIN}/clips/nope.mp4")).status == 400
    assert (await client.get(f"/api/{DOMAIN}/clips/a%2F..%2Fb.mp4")).status in (400, 404)

    assert current(hass, image).state != STATE_UNKNOWN
    picture = await client.get(current(hass, image).attributes["entity_picture"])
    assert picture.status == 200


async def test_bad_media_ids(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry, media: None
) -> None:
    serial = doorbell.state.serial
    for bad in (f"{serial}:week:1", f"{serial}:day:yesterday", f"{serial}:clip:x", "nobody"):
        with pytest.raises(BrowseError):
            await async_browse_media(hass, f"{MEDIA_ROOT}/{bad}")
    with pytest.raises(Unresolvable):
        await async_resolve_media(hass, f"{MEDIA_ROOT}/{serial}:clip:missing", None)
    with pytest.raises(Unresolvable):
        await async_resolve_media(hass, f"{MEDIA_ROOT}/{serial}:day:2026-11-27", None)


async def test_protect_unprotect_delete(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry, media: None
) -> None:
    media_id = await record_one(hass, doorbell)
    clip_id = media_id.rsplit(":", 1)[1]
    count = entity_id(hass, "sensor", doorbell.state.serial, "clip_count")
    await hass.services.async_call(DOMAIN, "protect_clip", {"clip_id": clip_id}, blocking=True)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "delete_clip", {"clip_id": clip_id}, blocking=True)
    assert err.value.translation_key == "clip_protected"
    await hass.services.async_call(DOMAIN, "unprotect_clip", {"clip_id": clip_id}, blocking=True)
    await hass.services.async_call(DOMAIN, "delete_clip", {"clip_id": clip_id}, blocking=True)
    await wait_for(lambda: current(hass, count).state == "0")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "protect_clip", {"clip_id": clip_id}, blocking=True)
    assert err.value.translation_key == "unknown_clip"


async def test_privacy_mode_records_nothing(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    switch = entity_id(hass, "switch", doorbell.state.serial, "privacy_mode")
    count = entity_id(hass, "sensor", doorbell.state.serial, "clip_count")
    assert current(hass, switch).state == STATE_OFF
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert current(hass, switch).state == STATE_ON
    await wait_for(lambda: doorbell.state.counters.rtsp_sessions >= 1)
    doorbell.press()
    await asyncio.sleep(3)
    await hass.async_block_till_done()
    assert current(hass, count).state == "0"
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert current(hass, switch).state == STATE_OFF


async def test_storage_full_of_protected_clips_pauses_and_raises_an_issue(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry, media: None
) -> None:
    media_id = await record_one(hass, doorbell)
    clip_id = media_id.rsplit(":", 1)[1]
    await hass.services.async_call(DOMAIN, "protect_clip", {"clip_id": clip_id}, blocking=True)
    # A free-space floor no disk here can meet: only the protected clip is left to delete.
    hass.config_entries.async_update_entry(entry, options={**entry.options, "min_free_gb": 1e6})
    assert await hass.config_entries.async_reload(entry.entry_id)
    issue_id = f"storage_full_{doorbell.state.serial}"
    await wait_for(lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None)
    count = entity_id(hass, "sensor", doorbell.state.serial, "clip_count")
    assert current(hass, count).state == "1"  # the protected clip survived


async def test_stopping_home_assistant_keeps_the_open_clip(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    """A clip still in its post-roll when Home Assistant stops is finished, not cut off."""
    hass.config_entries.async_update_entry(entry, options={**FAST_RECORDING, CONF_POST_ROLL: 60})
    assert await hass.config_entries.async_reload(entry.entry_id)
    clips = entry.runtime_data.clips
    await wait_for(lambda: clips.latest_jpeg() is not None)  # pre-roll holds a keyframe
    doorbell.press()
    await wait_for(lambda: list(clips.library.root.rglob("*.mp4")) != [])
    assert await hass.async_add_executor_job(clips.library.totals) == (0, 0)  # still open

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    count, size = await hass.async_add_executor_job(clips.library.totals)
    assert count == 1
    assert size > 0
    await wait_for(lambda: doorbell.state.counters.rtsp_sessions == 0)
