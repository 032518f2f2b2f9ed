"""One doorbell's recorder in Home Assistant: triggers, finished clips, retention, privacy mode."""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
import logging
from pathlib import Path

from homeassistant.auth.models import User
from homeassistant.auth.permissions.const import POLICY_READ
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect, async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, TRIGGER_RING
from .devices.base import DoorbellEvent
from .privacy.audit import AuditAction, AuditLog
from .recording.clip import ClipResult
from .recording.library import Clip, Library, UnknownClip, UnsafePath
from .recording.recorder import Recorder
from .recording.retention import apply_retention
from .recording.storage import free_bytes
from .settings import RecordingSettings

_LOGGER = logging.getLogger(__name__)

RETENTION_INTERVAL = timedelta(minutes=10)
DATA_LIBRARIES = f"{DOMAIN}_libraries"
DATA_LIBRARIES_LOCK = f"{DOMAIN}_libraries_lock"
ISSUE_STORAGE_FULL = "storage_full"
ISSUE_AUDIT_SET_ASIDE = "audit_log_damaged"
DATA_AUDIT_LOGS: HassKey[dict[Path, AuditLog]] = HassKey(f"{DOMAIN}_audit_logs")


def signal_clips_changed(serial: str) -> str:
    """Return the dispatcher signal sent when a doorbell's clips (or their audit) change."""
    return f"{DOMAIN}_clips_changed_{serial}"


def signal_stats_updated(serial: str) -> str:
    """Return the dispatcher signal sent when a doorbell's `ClipStats` are read anew."""
    return f"{DOMAIN}_stats_updated_{serial}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClipStats:
    """What the recording entities show, read from the library and audit in one job."""

    count: int
    size: int
    latest: Clip | None
    last_ring: tuple[datetime, Path] | None  # when the newest ring clip began, its thumbnail
    last_export: datetime | None


def audit_log(hass: HomeAssistant, root: Path) -> AuditLog:
    """Return the audit log of a storage root, one per root so that its lock is shared."""
    logs = hass.data.setdefault(DATA_AUDIT_LOGS, {})
    if root not in logs:

        def set_aside(aside: Path) -> None:
            """Tell the owner that the log was damaged and where it was kept (any thread)."""
            hass.loop.call_soon_threadsafe(
                partial(
                    ir.async_create_issue,
                    hass,
                    DOMAIN,
                    f"{ISSUE_AUDIT_SET_ASIDE}_{aside.name}",
                    is_fixable=False,
                    is_persistent=True,  # a moment that passed: shown until dismissed
                    severity=ir.IssueSeverity.WARNING,
                    translation_key=ISSUE_AUDIT_SET_ASIDE,
                    translation_placeholders={"root": str(root), "aside": str(aside)},
                )
            )

        logs[root] = AuditLog(root, on_set_aside=set_aside)
    return logs[root]


def camera_of(hass: HomeAssistant, device: str) -> str | None:
    """Return the entity id of a doorbell's camera, whose permissions guard its clips."""
    return er.async_get(hass).async_get_entity_id("camera", DOMAIN, f"{device}_camera")


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


class ClipManager:
    """Records one doorbell's clips into the library and keeps the library within bounds."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        serial: str,
        stream_url: str,
        settings: RecordingSettings,
        library: Library,
        exposed: bool = False,
    ) -> None:
        """Prepare the recorder; nothing runs before `async_start()`.

        `exposed`: the storage root is in a media folder, which every user can read; nothing
        more is recorded there.
        """
        self.hass = hass
        self.serial = serial
        self.settings = settings
        self.library = library
        self._exposed = exposed
        self._privacy = False
        self._storage_full: bool | None = None  # unknown until the first retention run
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._adding: set[concurrent.futures.Future[None]] = set()
        self.stats: ClipStats | None = None  # None until first read
        self.recorder = Recorder(
            stream_url,
            clip_paths=lambda trigger, start: library.clip_paths(serial, trigger, start),
            on_clip=self._clip_written,
            pre_roll=settings.pre_roll,
            post_roll=settings.post_roll,
            max_length=settings.max_clip_length,
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
        self._unsubscribe.append(
            async_track_time_interval(
                self.hass, self._async_retention_tick, RETENTION_INTERVAL, cancel_on_shutdown=True
            )
        )
        self._unsubscribe.append(
            async_dispatcher_connect(
                self.hass, signal_clips_changed(self.serial), self._async_refresh_stats
            )
        )
        await self.async_apply_retention()
        await self._async_refresh_stats()

    async def async_stop(self) -> None:
        """Stop recording; an open clip is finished and kept."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        await self.hass.async_add_executor_job(self.recorder.stop)
        # The clip that stop() finished must reach the library before it closes.
        await asyncio.gather(*(asyncio.wrap_future(future) for future in list(self._adding)))

    @callback
    def handle_event(self, event: DoorbellEvent) -> None:
        """Start or extend a clip for the events the owner chose to record."""
        if event.active and event.kind.value in self.settings.triggers:
            self.recorder.trigger(event.kind.value)

    def latest_jpeg(self) -> bytes | None:
        """Return the newest keyframe as JPEG, while the stream is up."""
        return self.recorder.latest_jpeg()

    async def _async_refresh_stats(self) -> None:
        """Read the statistics once for every entity that shows them, then tell them."""
        audit = audit_log(self.hass, self.library.root)
        self.stats = await self.hass.async_add_executor_job(self._read_stats, audit)
        async_dispatcher_send(self.hass, signal_stats_updated(self.serial))

    def _read_stats(self, audit: AuditLog) -> ClipStats:
        count, size = self.library.totals(self.serial)
        export = audit.last(AuditAction.EXPORT)
        return ClipStats(
            count=count,
            size=size,
            latest=self.library.latest(self.serial),
            last_ring=self._latest_thumbnail(TRIGGER_RING),
            last_export=export.at if export else None,
        )

    def _latest_thumbnail(self, trigger: str) -> tuple[datetime, Path] | None:
        """Return when the newest clip of a trigger began, and its thumbnail (blocking)."""
        clip = self.library.latest(self.serial, trigger)
        if clip is None:
            return None
        try:
            thumbnail = self.library.thumbnail_of(clip)
        except UnsafePath:
            _LOGGER.warning("Clip %s names a thumbnail outside the storage root", clip.id)
            return None
        return None if thumbnail is None else (clip.start, thumbnail)

    def _clip_written(self, result: ClipResult) -> None:
        """Take a finished clip from the recorder thread into the event loop."""
        future = asyncio.run_coroutine_threadsafe(self._async_add_clip(result), self.hass.loop)
        self._adding.add(future)
        future.add_done_callback(self._adding.discard)

    async def _async_add_clip(self, result: ClipResult) -> None:
        clip = await self.hass.async_add_executor_job(self.library.add, self.serial, result)
        _LOGGER.debug("Recorded clip %s (%s, %.1f s)", clip.id, clip.trigger, clip.duration)
        async_dispatcher_send(self.hass, signal_clips_changed(self.serial))
        await self.async_apply_retention()

    async def _async_retention_tick(self, _now: object) -> None:
        await self.async_apply_retention()

    async def async_apply_retention(self) -> None:
        """Delete what the policy no longer keeps; pause when only protected clips are left."""
        root = self.settings.root
        result = await self.hass.async_add_executor_job(
            lambda: apply_retention(
                self.library,
                self.settings.retention,
                now=dt_util.utcnow(),
                free_bytes=lambda: free_bytes(root),
                device=self.serial,
            )
        )
        if result.deleted:
            _LOGGER.info("Retention deleted %d clip(s)", len(result.deleted))
            async_dispatcher_send(self.hass, signal_clips_changed(self.serial))
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
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_STORAGE_FULL,
                translation_placeholders={"root": str(self.settings.root)},
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    def _apply_pause(self) -> None:
        self.recorder.paused = self._privacy or bool(self._storage_full) or self._exposed
