"""The audited export: the only way a clip leaves the storage root."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
import logging
from pathlib import Path
import sqlite3

from homeassistant.auth.models import User
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .clips import async_find_clip, async_log_clip, async_refresh_stats, audit_log, libraries
from .compat import vol
from .const import DOMAIN
from .errors import translated
from .privacy.audit import AuditAction, AuditEntry, AuditLog
from .recording.archive.library import Clip, Library, LibraryError
from .recording.archive.relocate import copy_file

_LOGGER = logging.getLogger(__name__)

SERVICE_EXPORT_CLIP = "export_clip"
ATTR_CLIP_ID = "clip_id"
ATTR_DESTINATION = "destination"
EXPORT_SCHEMA = vol.Schema(
    {vol.Required(ATTR_CLIP_ID): cv.string, vol.Required(ATTR_DESTINATION): cv.string}
)


async def async_export_clip(call: ServiceCall) -> None:
    """Copy a clip into a local folder for an admin, with its SHA-256 in the audit log."""
    hass = call.hass
    user = await _async_admin(hass, call.context.user_id)
    clip_id: str = call.data[ATTR_CLIP_ID]
    destination: str = call.data[ATTR_DESTINATION]
    placeholders = {"clip_id": clip_id, "destination": destination}
    if "://" in destination:
        raise _invalid("destination_is_url", placeholders)
    if (found := await async_find_clip(hass, clip_id)) is None:
        raise _invalid("unknown_clip", placeholders)
    library, clip = found
    roots = [shared.root for shared in libraries(hass)]
    audit = audit_log(hass, library.root)
    with translated("export_failed", placeholders, (OSError, LibraryError, sqlite3.Error)):
        entry = await hass.async_add_executor_job(
            partial(
                _export,
                hass,
                library=library,
                clip=clip,
                roots=roots,
                user=user,
                audit=audit,
                placeholders=placeholders,
            )
        )
    _LOGGER.info(
        "Clip %s exported to %s by %s (%s); SHA-256 %s",
        clip_id,
        entry.destination,
        user.name,
        user.id,
        entry.sha256,
    )
    async_log_clip(call, clip, f"clip {clip_id} exported to {entry.destination} by {user.name}")
    await async_refresh_stats(hass, clip.device)


def _invalid(key: str, placeholders: dict[str, str]) -> ServiceValidationError:
    """Return the translated error of a call that cannot be done as asked."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


async def _async_admin(hass: HomeAssistant, user_id: str | None) -> User:
    """Return the calling user if a person with admin rights, else refuse."""
    user = await hass.auth.async_get_user(user_id) if user_id else None
    # Automations, scripts and system users (Supervisor, Home Assistant Cloud) have no
    # person to name in the audit log, so only a signed-in admin can take a clip out.
    if user is None or not user.is_admin or not user.is_active or user.system_generated:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_admin")
    return user


def _export(
    hass: HomeAssistant,
    *,
    library: Library,
    clip: Clip,
    roots: Iterable[Path],
    user: User,
    audit: AuditLog,
    placeholders: dict[str, str],
) -> AuditEntry:
    """Copy the clip and its thumbnail, and record it; leave no copy unrecorded (blocking)."""
    folder = _check_folder(hass, placeholders, roots)
    mp4, thumbnail = library.path_of(clip), library.thumbnail_of(clip)
    written: list[Path] = []
    try:
        sha256 = copy_file(mp4, folder / mp4.name)
        written.append(folder / mp4.name)
        if thumbnail is not None and thumbnail.is_file():
            copy_file(thumbnail, folder / thumbnail.name)
            written.append(folder / thumbnail.name)
        return audit.record(
            action=AuditAction.EXPORT,
            clip_id=clip.id,
            user_id=user.id,
            user_name=user.name,
            sha256=sha256,
            destination=str(written[0]),
            at=dt_util.utcnow(),
        )
    except BaseException as err:
        for path in written:
            path.unlink(missing_ok=True)
        if isinstance(err, FileExistsError):  # an export never overwrites a file
            taken = {**placeholders, "path": str(err.filename)}
            raise _invalid("destination_exists", taken) from err
        raise


def _check_folder(hass: HomeAssistant, placeholders: dict[str, str], roots: Iterable[Path]) -> Path:
    """Return the resolved export folder, or refuse it (blocking)."""
    destination = placeholders["destination"]
    path = Path(destination)
    if not path.is_absolute() or not hass.config.is_allowed_path(destination):
        raise _invalid("destination_not_allowed", placeholders)
    folder = path.resolve()
    if any(folder.is_relative_to(root) for root in roots):
        raise _invalid("destination_in_storage", placeholders)
    # Home Assistant serves www at /local/ to anyone, without signing in.
    if folder.is_relative_to(Path(hass.config.path("www")).resolve()):
        raise _invalid("destination_public", placeholders)
    if not folder.is_dir():
        raise _invalid("destination_not_folder", placeholders)
    return folder
