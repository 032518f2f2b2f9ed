"""Recording edge cases: permissions, tampered indexes, retention runs, shared roots, bad roots."""

from __future__ import annotations

import asyncio
from contextlib import closing
from datetime import timedelta
import sqlite3
import threading
from typing import Any

from homeassistant.components.camera import async_get_image
from homeassistant.components.media_player import BrowseError
from homeassistant.components.media_source import (
    Unresolvable,
    async_browse_media,
    async_resolve_media,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.local_doorbell import clips as clips_module
from custom_components.local_doorbell.const import DOMAIN
from custom_components.local_doorbell.recording.archive.retention import apply_retention
from tests.helpers.clips import MEDIA_ROOT, children, record_one
from virtual_doorbell import VirtualDoorbell

from .conftest import current, entity_id, mock_entry, set_up_entry, wait_for

SERVICE = DOMAIN


async def test_malformed_media_ids(
    hass: HomeAssistant, doorbell: VirtualDoorbell, clip_id: str
) -> None:
    serial = doorbell.state.serial
    for bad in (f"{serial}:week:1", f"{serial}:day:yesterday", f"{serial}:clip:{clip_id}"):
        with pytest.raises(BrowseError):
            await async_browse_media(hass, f"{MEDIA_ROOT}/{bad}")
    with pytest.raises(BrowseError):
        await async_browse_media(hass, f"{MEDIA_ROOT}/:day:2026-11-27")
    with pytest.raises(Unresolvable):  # a real clip, claimed for another doorbell
        await async_resolve_media(hass, f"{MEDIA_ROOT}/OTHER:clip:{clip_id}", None)


async def test_views_check_permission_and_files(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_admin_user: MockUser,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    clip_id: str,
) -> None:
    client = await hass_client()
    clip = f"/api/{DOMAIN}/clips/{clip_id}.mp4"
    thumbnail = f"/api/{DOMAIN}/thumbnails/{clip_id}.jpg"
    assert (await client.get(thumbnail)).status == 200
    library = entry.runtime_data.clips.library
    found = await hass.async_add_executor_job(library.get, clip_id)
    thumb_path = await hass.async_add_executor_job(library.thumbnail_of, found)
    assert thumb_path is not None
    await hass.async_add_executor_job(thumb_path.unlink)
    assert (await client.get(thumbnail)).status == 404
    # The image entity shows the picture at the press from memory: the file is not needed.
    image = entity_id(hass, "image", doorbell.state.serial, "last_visitor")
    assert (await client.get(f"/api/image_proxy/{image}")).status == 200
    # A user who may not see this doorbell's camera gets nothing.
    hass_admin_user.mock_policy({"entities": {"entity_ids": {"light.kitchen": True}}})
    assert (await client.get(clip)).status == 403


async def test_a_tampered_index_cannot_reach_outside_the_root(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    entry: MockConfigEntry,
    clip_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    library = entry.runtime_data.clips.library

    def tamper() -> None:
        with closing(sqlite3.connect(library.root / "index.sqlite3")) as db, db:
            db.execute(
                "UPDATE clips SET path = ?, thumbnail = ? WHERE id = ?",
                ("../../../etc/passwd", "../../../etc/hostname", clip_id),
            )

    await hass.async_add_executor_job(tamper)
    client = await hass_client()
    assert (await client.get(f"/api/{DOMAIN}/clips/{clip_id}.mp4")).status == 403
    assert (await client.get(f"/api/{DOMAIN}/thumbnails/{clip_id}.jpg")).status == 403
    # Nor does the "last visitor" picture.
    clips = entry.runtime_data.clips
    await clips.stats.async_refresh()
    await wait_for(lambda: clips.stats.data is not None and clips.stats.data.last_ring is None)
    assert "outside the storage root" in caplog.text


async def test_retention_runs_on_schedule_and_lifts_the_pause(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry, clip_id: str
) -> None:
    await hass.services.async_call(SERVICE, "protect_clip", {"clip_id": clip_id}, blocking=True)
    # Keep clips for about a second, and ask for more free space than any disk has.
    options = {**entry.options, "retention_ring_hours": 0.0003, "min_free_gb": 1e6}
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_reload(entry.entry_id)
    issue_id = f"storage_full_{doorbell.state.serial}"
    await wait_for(lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None)
    count = entity_id(hass, "sensor", doorbell.state.serial, "clip_count")
    assert current(hass, count).state == "1"  # protected: kept
    await hass.services.async_call(SERVICE, "unprotect_clip", {"clip_id": clip_id}, blocking=True)
    await asyncio.sleep(1.5)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=11))
    await wait_for(lambda: current(hass, count).state == "0")
    # Nothing left to delete and still no room: the pause and the issue stay.
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    # The owner lowers the floor: the next start finds room, resumes and clears the issue.
    hass.config_entries.async_update_entry(entry, options={**options, "min_free_gb": 0.001})
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert entry.runtime_data.clips.recorder.paused is False


async def test_unload_waits_for_a_retention_pass_in_progress(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A slow disk: the scheduled pass is held in the executor while the entry unloads.
    started, release = threading.Event(), threading.Event()

    def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(10)
        return apply_retention(*args, **kwargs)

    monkeypatch.setattr(clips_module, "apply_retention", slow)
    clips = entry.runtime_data.clips
    running = hass.async_create_task(clips.async_apply_retention())
    assert await hass.async_add_executor_job(started.wait, 5)
    unloading = hass.async_create_task(hass.config_entries.async_unload(entry.entry_id))
    await asyncio.sleep(0.5)
    assert not unloading.done()  # the library stays open for the pass
    release.set()
    assert await unloading
    await running  # it ended on an open library
    assert "the clip library is not open" not in caplog.text
    started.clear()
    await clips.async_apply_retention()  # asked for once stopped, a pass does nothing
    assert not started.is_set()


async def test_cached_keyframe_serves_the_camera(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    clips = entry.runtime_data.clips
    await wait_for(lambda: clips.latest_jpeg() is not None, 20)
    # With the device refusing HTTP, the picture can only come from the recorder's keyframe.
    await doorbell.fault("refuse_auth")
    camera = entity_id(hass, "camera", doorbell.state.serial, "camera")
    image = await async_get_image(hass, camera)
    assert image.content.startswith(b"\xff\xd8")


async def test_two_doorbells_share_one_storage_root(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    other_doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    media: None,
) -> None:
    second = await set_up_entry(hass, other_doorbell, title="Back door")
    assert second.runtime_data.clips.library is entry.runtime_data.clips.library
    await record_one(hass, doorbell)
    await record_one(hass, other_doorbell)
    root = await async_browse_media(hass, MEDIA_ROOT)
    assert sorted(child.title for child in children(root)) == ["Amcrest AD410", "Back door"]
    assert await hass.config_entries.async_unload(second.entry_id)
    # The first doorbell still reads its library.
    assert children(await async_browse_media(hass, MEDIA_ROOT))


async def test_unusable_storage_root_fails_setup(
    hass: HomeAssistant, doorbell: VirtualDoorbell
) -> None:
    entry = mock_entry(hass, doorbell, options={"storage_root": "relative/clips"})
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.error_reason_translation_key == "storage_unusable"
