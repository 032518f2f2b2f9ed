"""The storage root at setup: checked, and moved out of Home Assistant's media folders.

Home Assistant's local media source serves every file of its media folders to every user,
and lets administrators delete them, past the integration's permission checks and audit log.
Clips never stay there: a root found in one (the default of earlier releases, or a folder
chosen then) is moved, with its index and audit log, to the default root. When that fails,
everything stays where it was, nothing more is recorded there and a repair issue says why.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from functools import partial
import logging
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import issue_registry as ir

from .clips import libraries, libraries_lock
from .const import CONF_STORAGE_ROOT, DOMAIN
from .issues import async_raise_issue
from .models import LocalDoorbellConfigEntry
from .privacy.audit import AUDIT_DB
from .recording.archive.database import DB_NAME
from .recording.archive.relocate import RelocateError, relocate
from .recording.archive.storage import (
    StorageError,
    default_root,
    legacy_default_root,
    media_folder_of,
    validate_root,
)

_LOGGER = logging.getLogger(__name__)

ISSUE_IN_MEDIA = "storage_in_media"
ISSUE_LEFT_IN_MEDIA = "storage_left_in_media"


@dataclass(frozen=True, slots=True)
class _Move:
    """A library to move out of a media folder."""

    source: Path  # resolved
    target: Path  # resolved
    media_dirs: tuple[Path, ...]  # resolved


async def async_prepare_storage(
    hass: HomeAssistant, entry: LocalDoorbellConfigEntry, root: Path
) -> tuple[Path, bool]:
    """Return an entry's storage root, its clips moved out of any media folder first.

    Also return whether the root is still in a media folder: then nothing is recorded.
    Raise ConfigEntryError when the folder cannot hold recordings at all.
    """
    config_dir = Path(hass.config.config_dir)
    media_dirs = list(hass.config.media_dirs.values())
    legacy = None
    if CONF_STORAGE_ROOT not in entry.options:
        legacy = legacy_default_root(hass.config.media_dirs)
    issue_id = f"{ISSUE_IN_MEDIA}_{entry.entry_id}"
    exposed = False
    # No doorbell opens a library while another one moves it.
    async with libraries_lock(hass):
        move = await hass.async_add_executor_job(
            _move_needed, root, legacy, default_root(config_dir), media_dirs
        )
        if move is not None:
            in_use = any(library.root == move.source for library in libraries(hass))
            try:
                moved = await hass.async_add_executor_job(partial(_move, move, in_use=in_use))
            except RelocateError as err:
                _refused(hass, issue_id, move, err)
                root, exposed = move.source, True
            else:
                await _async_moved(hass, entry, move, moved)
                root = default_root(config_dir)
    if not exposed:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    try:
        # Where the clips could not leave a media folder, the rest is still checked.
        await async_check_root(hass, root, in_media=exposed)
    except StorageError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="storage_unusable",
            translation_placeholders={"root": str(root)},
        ) from err
    return root, exposed


async def async_check_root(hass: HomeAssistant, root: Path, *, in_media: bool = False) -> Path:
    """Return a folder fit to hold recordings, created and resolved; raise StorageError.

    The one check of a storage root: when the owner picks it, and at every setup, for a
    folder can go bad after it was picked (unmounted, made read-only, a media folder added).
    `in_media`: a root left in a media folder, for its clips could not be moved out.
    """
    media_dirs = () if in_media else list(hass.config.media_dirs.values())
    return await hass.async_add_executor_job(
        partial(validate_root, root, config_dir=Path(hass.config.config_dir), media_dirs=media_dirs)
    )


def _move_needed(
    root: Path, legacy: Path | None, target: Path, media_dirs: list[str]
) -> _Move | None:
    """Return the library that must leave a media folder, if any (blocking)."""
    if media_folder_of(root, media_dirs) is not None:
        source = root
    elif legacy is not None and legacy.is_dir():  # the default of earlier releases, used
        source = legacy
    else:
        return None
    resolved = tuple(Path(folder).resolve() for folder in media_dirs)
    return _Move(source.resolve(), target.resolve(), resolved)


def _move(move: _Move, *, in_use: bool) -> tuple[int, int]:
    """Move a library: return the files moved and the originals left (blocking)."""
    source, target = move.source, move.target
    if (media := media_folder_of(target, map(str, move.media_dirs))) is not None:
        raise RelocateError(f"{target} is in the media folder {media} too")
    if in_use:
        raise RelocateError("another doorbell records there and could not move it")
    # An index or audit log already at the target stays; the ones here then stay here, not
    # served (Home Assistant serves media files only): the clips are indexed from sidecars.
    root_files = [name for name in (DB_NAME, AUDIT_DB) if not (target / name).exists()]
    moved = relocate(source, target, root_files=root_files)
    if source not in move.media_dirs:
        with suppress(OSError):
            source.rmdir()  # only if nothing else is left there
    return moved


def _refused(hass: HomeAssistant, issue_id: str, move: _Move, err: RelocateError) -> None:
    """Tell the owner that the clips stay in a media folder, and why."""
    _LOGGER.error(
        "The recordings in %s could not be moved to %s: %s", move.source, move.target, err
    )
    async_raise_issue(
        hass,
        issue_id,
        ISSUE_IN_MEDIA,
        {
            "root": str(move.source),
            "target": str(move.target),
            "error": str(err),
        },
        severity=ir.IssueSeverity.ERROR,
    )


async def _async_moved(
    hass: HomeAssistant, entry: LocalDoorbellConfigEntry, move: _Move, moved: tuple[int, int]
) -> None:
    """Point the entry at the default root, and tell the owner of originals that stayed."""
    files, left = moved
    if files:
        _LOGGER.warning(
            "Moved %d files of recordings from %s to %s", files, move.source, move.target
        )
    if CONF_STORAGE_ROOT in entry.options:
        options = {key: value for key, value in entry.options.items() if key != CONF_STORAGE_ROOT}
        hass.config_entries.async_update_entry(entry, options=options)
    for library in libraries(hass):
        if library.root == move.target:
            await hass.async_add_executor_job(library.open)  # indexes the clips moved in
    if left:
        async_raise_issue(
            hass,
            f"{ISSUE_LEFT_IN_MEDIA}_{entry.entry_id}",
            ISSUE_LEFT_IN_MEDIA,
            {
                "root": str(move.source),
                "target": str(move.target),
                "count": str(left),
            },
            persistent=True,
        )
