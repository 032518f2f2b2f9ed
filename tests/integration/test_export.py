"""The audited export: only an admin, only to an allowed local folder, hashed, logged, audited."""

from __future__ import annotations

import hashlib
from pathlib import Path
import sqlite3
from typing import Any
from unittest.mock import patch

from homeassistant.components.logbook import EVENT_LOGBOOK_ENTRY
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.translation import (
    async_get_exception_message,
    async_get_translations,
)
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.local_doorbell.const import DOMAIN
from custom_components.local_doorbell.privacy.audit import AuditAction, AuditEntry, AuditLog
from custom_components.local_doorbell.recording.archive.library import Library
from virtual_doorbell import VirtualDoorbell

from .conftest import current, entity_id, wait_for


@pytest.fixture
def exports(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Return a folder Home Assistant may write to, the only one."""
    folder = tmp_path / "exports"
    folder.mkdir()
    hass.config.allowlist_external_dirs = {str(folder)}
    return folder


async def _export(
    hass: HomeAssistant, clip: str, destination: Path | str, user: MockUser | None
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "export_clip",
        {"clip_id": clip, "destination": str(destination)},
        blocking=True,
        context=Context(user_id=user.id if user else None),
    )


async def _refused(
    hass: HomeAssistant, clip: str, destination: Path | str, user: MockUser | None
) -> str | None:
    """Export, expecting a refusal; return its translation key."""
    with pytest.raises(HomeAssistantError) as err:
        await _export(hass, clip, destination, user)
    return err.value.translation_key


async def _shown(hass: HomeAssistant, err: HomeAssistantError) -> str:
    """Return the message the user reads: the English text, its closing period cut."""
    await async_get_translations(hass, "en", "exceptions", {DOMAIN})
    assert err.translation_key is not None
    return async_get_exception_message(DOMAIN, err.translation_key, err.translation_placeholders)


def _library(entry: MockConfigEntry) -> Library:
    library: Library = entry.runtime_data.clips.library
    return library


async def _audit(hass: HomeAssistant, entry: MockConfigEntry, clip: str) -> list[AuditEntry]:
    return await hass.async_add_executor_job(AuditLog(_library(entry).root).entries, clip)


def _files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def test_an_admin_exports_a_clip(
    hass: HomeAssistant,
    hass_admin_user: MockUser,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    exports: Path,
    clip_id: str,
) -> None:
    logbook = async_capture_events(hass, EVENT_LOGBOOK_ENTRY)
    await _export(hass, clip_id, exports, hass_admin_user)

    library = _library(entry)
    clip = await hass.async_add_executor_job(library.get, clip_id)
    source = await hass.async_add_executor_job(library.path_of(clip).read_bytes)
    copy = exports / f"{clip_id}.mp4"
    assert await hass.async_add_executor_job(copy.read_bytes) == source
    assert await hass.async_add_executor_job(_files, exports) == [f"{clip_id}.jpg", copy.name]

    (entry_,) = await _audit(hass, entry, clip_id)
    assert entry_.action is AuditAction.EXPORT
    assert entry_.sha256 == hashlib.sha256(source).hexdigest()
    assert (entry_.user_id, entry_.user_name) == (hass_admin_user.id, hass_admin_user.name)
    assert entry_.destination == str(copy)

    camera = entity_id(hass, "camera", doorbell.state.serial, "camera")
    (event,) = logbook
    assert event.data["domain"] == DOMAIN
    assert event.data["entity_id"] == camera
    assert clip_id in event.data["message"]
    assert str(copy) in event.data["message"]
    assert event.context.user_id == hass_admin_user.id

    # Exporting again never overwrites the first copy.
    with pytest.raises(ServiceValidationError) as err:
        await _export(hass, clip_id, exports, hass_admin_user)
    assert err.value.translation_key == "destination_exists"
    assert await _shown(hass, err.value) == (
        f"{copy} already exists, and an export never overwrites a file. Move or delete that"
        " file, or export to another folder"
    )
    assert len(await _audit(hass, entry, clip_id)) == 1


async def test_who_may_export_and_where(
    hass: HomeAssistant,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
    entry: MockConfigEntry,
    exports: Path,
    media_dir: Path,
    tmp_path: Path,
    clip_id: str,
) -> None:
    admin = hass_admin_user
    # Only a signed-in admin: not a user without admin rights, nor an automation or script.
    assert await _refused(hass, clip_id, exports, hass_read_only_user) == "not_admin"
    assert await _refused(hass, clip_id, exports, None) == "not_admin"
    for user in (
        MockUser(is_owner=True, system_generated=True),
        MockUser(is_owner=True, is_active=False),
    ):
        assert await _refused(hass, clip_id, exports, user.add_to_hass(hass)) == "not_admin"

    for url in ("https://example.com/upload", "smb://nas/share", "file:///tmp"):
        assert await _refused(hass, clip_id, url, admin) == "destination_is_url"
    elsewhere = tmp_path / "elsewhere"
    await hass.async_add_executor_job(elsewhere.mkdir)
    assert await _refused(hass, clip_id, elsewhere, admin) == "destination_not_allowed"
    assert await _refused(hass, clip_id, "exports", admin) == "destination_not_allowed"
    assert await _refused(hass, clip_id, exports / ".." / "elsewhere", admin) == (
        "destination_not_allowed"
    )
    assert await _refused(hass, clip_id, exports / "missing", admin) == "destination_not_folder"
    assert await _refused(hass, "20261127T100000Z-ring-ffff", exports, admin) == "unknown_clip"

    # The media folder may be allowed, but not the recordings inside it, nor the public www.
    www = Path(hass.config.path("www"))
    inside = _library(entry).root
    hass.config.allowlist_external_dirs |= {str(media_dir), str(www), str(inside.parent)}
    assert await _refused(hass, clip_id, inside, admin) == "destination_in_storage"
    assert await _refused(hass, clip_id, www / "clips", admin) == "destination_public"

    # An existing file is never overwritten, and a refused export leaves nothing behind.
    taken = exports / f"{clip_id}.jpg"
    await hass.async_add_executor_job(taken.write_bytes, b"mine")
    assert await _refused(hass, clip_id, exports, admin) == "destination_exists"
    assert await hass.async_add_executor_job(_files, exports) == [taken.name]
    assert await hass.async_add_executor_job(taken.read_bytes) == b"mine"

    assert await _audit(hass, entry, clip_id) == []


async def test_a_failed_export_leaves_nothing_unrecorded(
    hass: HomeAssistant,
    hass_admin_user: MockUser,
    entry: MockConfigEntry,
    exports: Path,
    clip_id: str,
) -> None:
    def locked(*_args: Any, **_kwargs: Any) -> AuditEntry:
        raise sqlite3.OperationalError("database is locked")

    # No audit row, no copy: an export nobody can account for must not exist.
    with patch.object(AuditLog, "record", locked), pytest.raises(HomeAssistantError) as err:
        await _export(hass, clip_id, exports, hass_admin_user)
    assert err.value.translation_key == "export_failed"
    assert await _shown(hass, err.value) == (
        f"Clip {clip_id} could not be exported to {exports}: database is locked. Nothing was left"
        " in the folder; check its free space and permissions"
    )
    assert await hass.async_add_executor_job(_files, exports) == []

    # A clip whose thumbnail is gone is exported without one.
    library = _library(entry)
    clip = await hass.async_add_executor_job(library.get, clip_id)
    thumbnail = await hass.async_add_executor_job(library.thumbnail_of, clip)
    assert thumbnail is not None
    await hass.async_add_executor_job(thumbnail.unlink)
    await _export(hass, clip_id, exports, hass_admin_user)
    assert await hass.async_add_executor_job(_files, exports) == [f"{clip_id}.mp4"]

    # A clip file gone from disk is an error, not a crash, and leaves nothing.
    again = exports / "again"
    await hass.async_add_executor_job(again.mkdir)
    await hass.async_add_executor_job(library.path_of(clip).unlink)
    assert await _refused(hass, clip_id, again, hass_admin_user) == "export_failed"
    assert await hass.async_add_executor_job(_files, again) == []
    assert len(await _audit(hass, entry, clip_id)) == 1


async def test_clip_actions_are_audited(
    hass: HomeAssistant,
    hass_admin_user: MockUser,
    entry: MockConfigEntry,
    clip_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    context = Context(user_id=hass_admin_user.id)
    for action in ("protect_clip", "unprotect_clip", "delete_clip"):
        await hass.services.async_call(
            DOMAIN, action, {"clip_id": clip_id}, blocking=True, context=context
        )
    entries = await _audit(hass, entry, clip_id)
    assert [e.action for e in entries] == ["delete", "unprotect", "protect"]
    assert {(e.user_id, e.user_name) for e in entries} == {
        (hass_admin_user.id, hass_admin_user.name)
    }
    # The history outlives the clip.
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "protect_clip", {"clip_id": clip_id}, blocking=True, context=context
        )
    assert len(await _audit(hass, entry, clip_id)) == 3


async def test_an_unwritable_audit_does_not_undo_a_clip_action(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    clip_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def locked(*_args: Any, **_kwargs: Any) -> AuditEntry:
        raise sqlite3.OperationalError("database is locked")

    with patch.object(AuditLog, "record", locked):
        await hass.services.async_call(DOMAIN, "protect_clip", {"clip_id": clip_id}, blocking=True)
    clip = await hass.async_add_executor_job(_library(entry).get, clip_id)
    assert clip.protected
    assert f"Could not write the audit entry: protect of clip {clip_id}" in caplog.text


async def test_the_last_export_shows_in_a_sensor_and_in_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_admin_user: MockUser,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    exports: Path,
    clip_id: str,
) -> None:
    sensor = entity_id(hass, "sensor", doorbell.state.serial, "last_export")
    assert current(hass, sensor).state == STATE_UNKNOWN
    await _export(hass, clip_id, exports, hass_admin_user)
    await wait_for(lambda: current(hass, sensor).state != STATE_UNKNOWN)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    (row,) = diagnostics["audit"]
    assert row["action"] == "export"
    assert row["clip_id"] == clip_id
    assert row["user_id"] == row["user_name"] == row["destination"] == "**REDACTED**"
    assert str(exports) not in str(diagnostics)
