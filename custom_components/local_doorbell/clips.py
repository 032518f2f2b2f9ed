"""Clips in Home Assistant: shared libraries, the audit, and one doorbell's recorder."""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
import logging
from pathlib import Path
import sqlite3

from homeassistant.auth.models import User
from homeassistant.auth.permissions.const import POLICY_READ
from homeassistant.components.logbook import async_log_entry
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, ServiceCall, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .coordinator import ClipStatsCoordinator
from .devices.base import DoorbellEvent, EventKind
from .issues import async_raise_issue
from .options import DoorbellOptions
from .privacy.audit import AuditAction, AuditLog
from .recording.archive.library import Clip, Library, UnknownClip
from .recording.archive.retention import apply_retention
from .recording.archive.storage import free_bytes
from .recording.capture.clip import ClipResult
from .recording.capture.recorder import Live, Recorder
from .ring import RingMoments
from .unique_ids import entity_id_of

_LOGGER = logging.getLogger(__name__)

RETENTION_INTERVAL = timedelta(minutes=10)
DATA_LIBRARIES = f"{DOMAIN}_libraries"
DATA_LIBRARIES_LOCK = f"{DOMAIN}_libraries_lock"
ISSUE_STORAGE_FULL = "storage_full"
ISSUE_AUDIT_SET_ASIDE = "audit_log_damaged"
DATA_AUDIT_LOGS: HassKey[dict[Path, AuditLog]] = HassKey(f"{DOMAIN}_audit_logs")


def audit_log(hass: HomeAssistant, root: Path) -> AuditLog:
    """Return the audit log of a storage root, one per root so that its lock is shared."""
    logs = hass.data.setdefault(DATA_AUDIT_LOGS, {})
    if root not in logs:

        def set_aside(aside: Path) -> None:
            """Tell the owner that the log was damaged and where it was kept (any thread)."""
            hass.loop.call_soon_threadsafe(
                partial(
                    async_raise_issue,
                    hass,
                    f"{ISSUE_AUDIT_SET_ASIDE}_{aside.name}",
                    ISSUE_AUDIT_SET_ASIDE,
                    {"root": str(root), "aside": str(aside)},
                    persistent=True,
                )
            )

        logs[root] = AuditLog(root, on_set_aside=set_aside)
    return logs[root]


def camera_of(hass: HomeAssistant, device: str) -> str | None:
    """Return the entity id of a doorbell's camera, whose permissions guard its clips."""
    return entity_id_of(hass, "camera", device, "camera")


def may_see_clips(hass: HomeAssistant, user: User, device: str) -> bool:
    """Tell whether a user may see a doorbell's clips: whether they may see its camera."""
    camera = camera_of(hass, device)
    return camera is not None and user.permissions.check_entity(camera, POLICY_READ)


def libraries_lock(hass: HomeAssistant) -> asyncio.Lock:
    """Return the lock held while a storage root's library is opened, closed or moved."""
    lock: asyncio.Lock = hass.data.setdefault(DATA_LIBRARIES_LOCK, asyncio.Lock())
    return lock


@dataclass(slots=True)
class _SharedLibrary:
    library: Library
    users: int


async def async_acquire_library(hass: HomeAssistant, root: Path) -> Library:
    """Open the library of a storage root, shared by every doorbell that records there."""
    libraries: dict[Path, _SharedLibrary] = hass.data.setdefault(DATA_LIBRARIES, {})
    # Doorbells set up together must not open (and rebuild) one root twice.
    async with libraries_lock(hass):
        if (shared := libraries.get(root)) is None:
            library = Library(root)
            await hass.async_add_executor_job(library.open)
            shared = libraries[root] = _SharedLibrary(library, 0)
        shared.users += 1
    return shared.library


async def async_release_library(hass: HomeAssistant, root: Path) -> None:
    """Close a storage root's library when its last doorbell lets go of it."""
    libraries: dict[Path, _SharedLibrary] = hass.data[DATA_LIBRARIES]
    shared = libraries[root]
    shared.users -= 1
    if shared.users == 0:
        del libraries[root]
        await hass.async_add_executor_job(shared.library.close)


def libraries(hass: HomeAssistant) -> list[Library]:
    """Return the libraries of the loaded doorbells, each once."""
    shared: dict[Path, _SharedLibrary] = hass.data.get(DATA_LIBRARIES, {})
    return [entry.library for entry in shared.values()]


async def async_find_clip(hass: HomeAssistant, clip_id: str) -> tuple[Library, Clip] | None:
    """Return a clip and the library that holds it, or None."""
    for library in libraries(hass):
        try:
            return library, await hass.async_add_executor_job(library.get, clip_id)
        except UnknownClip:
            continue
    return None


async def async_refresh_stats(hass: HomeAssistant, device: str) -> None:
    """Read a loaded doorbell's clip statistics anew after its clips or their audit changed."""
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        if entry.unique_id == device:
            await entry.runtime_data.clips.stats.async_refresh()


async def async_audit(
    call: ServiceCall, library_root: Path, action: AuditAction, clip: Clip, user: User | None
) -> None:
    """Record a clip action in the audit log and the logbook; a failure is logged, as it is done.

    `user` is None for automations and scripts that Home Assistant runs by itself.
    """
    audit = audit_log(call.hass, library_root)
    try:
        await call.hass.async_add_executor_job(
            lambda: audit.record(
                action=action,
                clip_id=clip.id,
                user_id=user.id if user else None,
                user_name=user.name if user else None,
                sha256=None,
                destination=None,
                at=dt_util.utcnow(),
            )
        )
    except sqlite3.Error:
        _LOGGER.exception("Could not write the audit entry: %s of clip %s", action, clip.id)
    who = user.name if user else "an automation or script"
    _LOGGER.info("Clip %s: %s by %s", clip.id, action, who)
    async_log_clip(call, clip, f"clip {clip.id}: {action} by {who}")
    await async_refresh_stats(call.hass, clip.device)


@callback
def async_log_clip(call: ServiceCall, clip: Clip, message: str) -> None:
    """Write an action on a clip to the logbook, as an entry of the doorbell's camera."""
    camera = camera_of(call.hass, clip.device)
    state = call.hass.states.get(camera) if camera else None
    async_log_entry(
        call.hass,
        state.name if state else "Local Doorbell",
        message,
        domain=DOMAIN,
        entity_id=camera,
        context=call.context,
    )


class ClipManager:
    """Records one doorbell's clips into the library and keeps the library within bounds."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        serial: str,
        stream_url: str,
        options: DoorbellOptions,
        library: Library,
        exposed: bool = False,
        live: Live | None = None,
    ) -> None:
        """Prepare the recorder; nothing runs before `async_start()`.

        `exposed`: the storage root is in a media folder, which every user can read; nothing
        more is recorded there. `live`: the restream, which takes the recorder's packets too.
        """
        self.hass = hass
        self.serial = serial
        self.options = options
        self.library = library
        self._exposed = exposed
        self._privacy = False
        self._storage_full: bool | None = None  # unknown until the first retention run
        self._stop_retention: CALLBACK_TYPE | None = None
        # One retention pass at a time, and none once stopped: the library closes after.
        self._retention_lock = asyncio.Lock()
        self._stopped = False
        self._adding: set[concurrent.futures.Future[None]] = set()
        self.stats = ClipStatsCoordinator(
            hass, entry, library=library, audit=audit_log(hass, library.root), serial=serial
        )
        self.recorder = Recorder(
            stream_url,
            clip_paths=lambda trigger, start: library.clip_paths(serial, trigger, start),
            on_clip=self._clip_written,
            pre_roll=options.pre_roll,
            post_roll=options.post_roll,
            max_length=options.max_clip_length,
            live=live,
        )
        self.rings = RingMoments(
            hass, entry, self.recorder, record=EventKind.RING in options.triggers
        )
        self._apply_pause()

    @property
    def privacy_mode(self) -> bool:
        """Tell whether the owner paused recording."""
        return self._privacy

    def set_privacy_mode(self, enabled: bool) -> None:
        """Pause or resume recording at the owner's request."""
        self._privacy = enabled
        self._apply_pause()

    async def async_start(self) -> None:
        """Start recording and the periodic retention run."""
        await self.hass.async_add_executor_job(self.recorder.start)
        self._stop_retention = async_track_time_interval(
            self.hass, self._async_retention_tick, RETENTION_INTERVAL, cancel_on_shutdown=True
        )
        await self.async_apply_retention()
        await self.stats.async_refresh()
        if (error := self.stats.last_exception) is not None:
            raise error  # a library or audit log that cannot be read fails the setup

    async def async_stop(self) -> None:
        """Stop recording; an open clip is finished and kept."""
        if self._stop_retention is not None:
            self._stop_retention()
            self._stop_retention = None
        await self.hass.async_add_executor_job(self.recorder.stop)
        # The clip that stop() finished must reach the library before it closes.
        await asyncio.gather(*(asyncio.wrap_future(future) for future in list(self._adding)))
        async with self._retention_lock:  # and a scheduled pass still running must end
            self._stopped = True

    @callback
    def handle_event(self, event: DoorbellEvent) -> None:
        """Start or extend a clip; subscribed to the events the owner chose to record.

        Rings go to `rings` instead, which records them and takes their picture.
        """
        if event.active:
            self.recorder.trigger(event.kind.value)

    def latest_jpeg(self) -> bytes | None:
        """Return the newest keyframe as JPEG, while the stream is up."""
        return self.recorder.latest_jpeg()

    def _clip_written(self, result: ClipResult) -> None:
        """Take a finished clip from the recorder thread into the event loop."""
        future = asyncio.run_coroutine_threadsafe(self._async_add_clip(result), self.hass.loop)
        self._adding.add(future)
        future.add_done_callback(self._adding.discard)

    async def _async_add_clip(self, result: ClipResult) -> None:
        clip = await self.hass.async_add_executor_job(self.library.add, self.serial, result)
        _LOGGER.debug("Recorded clip %s (%s, %.1f s)", clip.id, clip.trigger, clip.duration)
        await self.stats.async_refresh()
        await self.async_apply_retention()

    async def _async_retention_tick(self, _now: object) -> None:
        await self.async_apply_retention()

    async def async_apply_retention(self) -> None:
        """Delete what the policy no longer keeps; pause when only protected clips are left."""
        root, policy = self.options.root, self.options.retention
        async with self._retention_lock:
            if self._stopped:
                return
            result = await self.hass.async_add_executor_job(
                lambda: apply_retention(
                    self.library,
                    policy,
                    now=dt_util.utcnow(),
                    free_bytes=lambda: free_bytes(root),
                    device=self.serial,
                )
            )
        if result.deleted:
            _LOGGER.info("Retention deleted %d clip(s)", len(result.deleted))
            await self.stats.async_refresh()
        self._set_storage_full(result.paused)

    def _set_storage_full(self, full: bool) -> None:
        """Pause recording and tell the owner when only protected clips fill the disk."""
        if full == self._storage_full:
            return
        self._storage_full = full
        self._apply_pause()
        issue_id = f"{ISSUE_STORAGE_FULL}_{self.serial}"
        if full:
            _LOGGER.warning("Recording paused: the storage is full of protected clips")
            async_raise_issue(
                self.hass, issue_id, ISSUE_STORAGE_FULL, {"root": str(self.options.root)}
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    def _apply_pause(self) -> None:
        self.recorder.paused = self._privacy or bool(self._storage_full) or self._exposed
