"""Clips never stay where Home Assistant's media browser serves them to every user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.local_doorbell.const import CONF_STORAGE_ROOT, DOMAIN
from custom_components.local_doorbell.options import RETENTION_KEYS
from custom_components.local_doorbell.privacy.audit import AuditAction, AuditLog
from custom_components.local_doorbell.recording.archive.library import Clip, Library
from virtual_doorbell import VirtualDoorbell

from ..recording.media import record_clip
from .conftest import FAST_RECORDING, AddEntry


@pytest.fixture
def stranger(hass_read_only_user: MockUser, hass_read_only_access_token: str) -> str:
    """Return the token of a user without admin rights who may see no doorbell camera."""
    hass_read_only_user.mock_policy({"entities": {"entity_ids": {"light.kitchen": True}}})
    return hass_read_only_access_token


def old_library(root: Path, serial: str) -> tuple[Clip, Clip]:
    """Record as an earlier release did into `root`: two clips, one protected, one audited."""
    library = Library(root)
    library.open()
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    try:
        kept = library.set_protected(record_clip(library, serial, start=an_hour_ago).id, True)
        other = record_clip(library, serial, start=an_hour_ago + timedelta(minutes=5))
    finally:
        library.close()
    AuditLog(library.root).record(
        action=AuditAction.PROTECT,
        clip_id=kept.id,
        user_id="someone",
        user_name="Someone",
        sha256=None,
        destination=None,
        at=an_hour_ago,
    )
    return kept, other


def files_under(folder: Path) -> list[str]:
    """Return the files below a folder, relative."""
    return sorted(
        path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()
    )


async def test_my_media_does_not_serve_clips(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    stranger: str,
    entry: MockConfigEntry,
    clip_id: str,
    media_dir: Path,
) -> None:
    library: Library = entry.runtime_data.clips.library
    clip = await hass.async_add_executor_job(library.get, clip_id)
    client = await hass_client(stranger)
    # Our own view refuses the user who may not see the camera ...
    assert (await client.get(f"/api/{DOMAIN}/clips/{clip_id}.mp4")).status == 403
    # ... and no media folder holds the clip, where the local media view would serve it.
    assert await hass.async_add_executor_job(files_under, media_dir) == []
    for path in (clip.path, clip.thumbnail):
        assert (await client.get(f"/media/local/local_doorbell/{path}")).status == 404
    # That view serves what is there, to this user too.
    await hass.async_add_executor_job((media_dir / "holiday.jpg").write_bytes, b"\xff\xd8")
    assert (await client.get("/media/local/holiday.jpg")).status == 200


async def test_clips_of_the_old_default_move_out_with_their_protection(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    stranger: str,
    doorbell: VirtualDoorbell,
    add_entry: AddEntry,
    media: None,
    media_dir: Path,
    config_dir: Path,
) -> None:
    serial = doorbell.state.serial
    kept, other = await hass.async_add_executor_job(
        old_library, media_dir / "local_doorbell", serial
    )
    before = await hass.async_add_executor_job(files_under, media_dir / "local_doorbell")
    entry = await add_entry()
    target = config_dir / "local_doorbell" / "recordings"
    assert await hass.async_add_executor_job(files_under, target) == before
    assert not await hass.async_add_executor_job((media_dir / "local_doorbell").exists)
    library: Library = entry.runtime_data.clips.library
    assert library.root == target
    assert (await hass.async_add_executor_job(library.get, kept.id)).protected
    assert not (await hass.async_add_executor_job(library.get, other.id)).protected
    (entry_,) = await hass.async_add_executor_job(AuditLog(target).entries, kept.id)
    assert (entry_.action, entry_.user_name) == (AuditAction.PROTECT, "Someone")
    # Untouched but for the migration to per-trigger retention (an entry of version 1.1).
    assert entry.options == {**FAST_RECORDING, **dict.fromkeys(RETENTION_KEYS.values(), 72.0)}
    assert not entry.runtime_data.clips.recorder.paused

    client = await hass_client(stranger)
    assert (await client.get(f"/media/local/local_doorbell/{kept.path}")).status == 404
    assert (await client.get(f"/api/{DOMAIN}/clips/{kept.id}.mp4")).status == 403
    assert (await (await hass_client()).get(f"/api/{DOMAIN}/clips/{kept.id}.mp4")).status == 200


@pytest.mark.parametrize("chosen", ["cameras/front", "."])
async def test_a_chosen_folder_in_a_media_folder_moves_to_the_default(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    add_entry: AddEntry,
    media_dir: Path,
    chosen: str,
) -> None:
    root = media_dir / chosen
    kept, _ = await hass.async_add_executor_job(old_library, root, doorbell.state.serial)
    mine = media_dir / "cameras" / "mine.jpg"
    await hass.async_add_executor_job(lambda: mine.parent.mkdir(exist_ok=True))
    await hass.async_add_executor_job(mine.write_bytes, b"mine")
    entry = await add_entry({CONF_STORAGE_ROOT: str(root)})
    assert CONF_STORAGE_ROOT not in entry.options  # the default from now on
    library: Library = entry.runtime_data.clips.library
    assert (await hass.async_add_executor_job(library.get, kept.id)).protected
    # The owner's own files stay, and so does the media folder itself.
    assert await hass.async_add_executor_job(files_under, media_dir) == ["cameras/mine.jpg"]


async def test_clips_that_cannot_move_stay_whole_and_nothing_more_is_recorded(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    doorbell: VirtualDoorbell,
    add_entry: AddEntry,
    media: None,
    media_dir: Path,
    config_dir: Path,
) -> None:
    old = media_dir / "local_doorbell"
    kept, _ = await hass.async_add_executor_job(old_library, old, doorbell.state.serial)
    before = await hass.async_add_executor_job(files_under, old)
    # Something in the way of the default folder.
    blocker = config_dir / "local_doorbell"
    await hass.async_add_executor_job(blocker.write_text, "in the way")
    entry = await add_entry()
    assert entry.state is ConfigEntryState.LOADED
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"storage_in_media_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "storage_in_media"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["root"] == str(old)
    assert await hass.async_add_executor_job(files_under, old) == before
    assert await hass.async_add_executor_job(blocker.read_text) == "in the way"
    # The clips are still managed where they are, but none is added there.
    clips = entry.runtime_data.clips
    assert clips.library.root == old
    assert clips.recorder.paused
    assert (await hass.async_add_executor_job(clips.library.get, kept.id)).protected
    assert (await (await hass_client()).get(f"/api/{DOMAIN}/clips/{kept.id}.mp4")).status == 200

    # The owner clears the way; the next start moves them.
    await hass.async_add_executor_job(blocker.unlink)
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"storage_in_media_{entry.entry_id}") is None
    clips = entry.runtime_data.clips
    assert clips.library.root == config_dir / "local_doorbell" / "recordings"
    assert not clips.recorder.paused
    assert (await hass.async_add_executor_job(clips.library.get, kept.id)).protected


async def test_no_folder_outside_the_media_folders(
    hass: HomeAssistant, add_entry: AddEntry, media_dir: Path, config_dir: Path
) -> None:
    # The owner made the configuration folder a media folder: the default is served too.
    hass.config.media_dirs = {"local": str(media_dir), "config": str(config_dir)}
    entry = await add_entry()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"storage_in_media_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert "is in the media folder" in issue.translation_placeholders["error"]
    assert entry.runtime_data.clips.recorder.paused


async def test_originals_left_behind_are_reported(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    add_entry: AddEntry,
    media_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = media_dir / "local_doorbell"
    await hass.async_add_executor_job(old_library, old, doorbell.state.serial)
    unlink = Path.unlink

    def stuck(path: Path, missing_ok: bool = False) -> None:
        if path.suffix == ".jpg" and path.is_relative_to(old):
            raise PermissionError(13, "Permission denied", str(path))
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", stuck)
    entry = await add_entry()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"storage_left_in_media_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["count"] == "2"
    assert issue.is_persistent


async def test_a_library_in_use_is_not_moved(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    other_doorbell: VirtualDoorbell,
    add_entry: AddEntry,
    media_dir: Path,
    config_dir: Path,
) -> None:
    shared = media_dir / "doorbells"
    await hass.async_add_executor_job(old_library, shared, doorbell.state.serial)
    blocker = config_dir / "local_doorbell"
    await hass.async_add_executor_job(blocker.write_text, "in the way")
    first = await add_entry({CONF_STORAGE_ROOT: str(shared)})
    await hass.async_add_executor_job(blocker.unlink)
    # The first doorbell records there (or rather: holds its library open), so the second
    # cannot take the library away; it shares it, and records nothing either.
    second = await add_entry({CONF_STORAGE_ROOT: str(shared)}, target=other_doorbell)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"storage_in_media_{second.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert "another doorbell" in issue.translation_placeholders["error"]
    assert second.runtime_data.clips.library is first.runtime_data.clips.library
    assert second.runtime_data.clips.recorder.paused
    assert await hass.config_entries.async_unload(second.entry_id)


async def test_clips_moved_into_a_library_in_use_are_indexed(
    hass: HomeAssistant,
    other_doorbell: VirtualDoorbell,
    add_entry: AddEntry,
    media_dir: Path,
) -> None:
    first = await add_entry()  # records in the default folder already
    chosen = media_dir / "back door"
    kept, _ = await hass.async_add_executor_job(old_library, chosen, other_doorbell.state.serial)
    second = await add_entry({CONF_STORAGE_ROOT: str(chosen)}, target=other_doorbell)
    library: Library = first.runtime_data.clips.library
    assert second.runtime_data.clips.library is library
    assert (await hass.async_add_executor_job(library.get, kept.id)).protected
    assert await hass.config_entries.async_unload(second.entry_id)
