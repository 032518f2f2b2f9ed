"""Media source: Local Doorbell → doorbell → day → clips, played through the clip view.

Identifiers: `<serial>`, `<serial>:day:<YYYY-MM-DD>`, `<serial>:clip:<clip id>`; never paths.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from homeassistant.components.media_player import BrowseError, MediaClass, MediaType
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .clips import async_find_clip, libraries
from .const import DOMAIN
from .recording.archive.library import Clip, Library
from .recording.archive.retention import RetentionPolicy
from .views import clip_url, thumbnail_url

TITLE = "Local Doorbell"


class Kind(StrEnum):
    """What a media identifier names below a doorbell."""

    DAY = "day"
    CLIP = "clip"


async def async_get_media_source(hass: HomeAssistant) -> LocalDoorbellMediaSource:
    """Return the media source of recorded clips."""
    return LocalDoorbellMediaSource(hass)


class LocalDoorbellMediaSource(MediaSource):
    """Browse and play the clips recorded on this Home Assistant."""

    name = TITLE

    def __init__(self, hass: HomeAssistant) -> None:
        """Remember Home Assistant."""
        super().__init__(DOMAIN)
        self.hass = hass

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Return the relative URL of a clip; core signs it for the player."""
        serial, kind, value = _parse(item.identifier)
        if kind is not Kind.CLIP or (found := await async_find_clip(self.hass, value)) is None:
            raise Unresolvable(f"No clip {item.identifier}")
        if found[1].device != serial:
            raise Unresolvable(f"No clip {item.identifier}")
        return PlayMedia(clip_url(value), "video/mp4")

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Browse doorbells, their days, and the clips of a day."""
        if not item.identifier:
            return await self._async_doorbells()
        serial, kind, value = _parse(item.identifier)
        library = await self._async_library_of(serial)
        if kind is None:
            return await self._async_days(library, serial)
        if kind is Kind.DAY:
            try:
                day = date.fromisoformat(value)
            except ValueError as err:
                raise BrowseError(f"Bad day in {item.identifier}") from err
            return await self._async_clips(library, serial, day)
        raise BrowseError(f"A clip cannot be browsed: {item.identifier}")

    def _policy(self, serial: str) -> RetentionPolicy | None:
        """Return the retention of a loaded doorbell's clips; None for one not loaded."""
        for entry in self.hass.config_entries.async_loaded_entries(DOMAIN):
            if entry.unique_id == serial:
                policy: RetentionPolicy = entry.runtime_data.options.retention
                return policy
        return None

    def _name(self, serial: str) -> str:
        for entry in self.hass.config_entries.async_entries(DOMAIN):
            if entry.unique_id == serial:
                return entry.title
        return serial

    async def _async_library_of(self, serial: str) -> Library:
        for library in libraries(self.hass):
            if serial in await self.hass.async_add_executor_job(library.devices):
                return library
        raise BrowseError(f"No recordings of doorbell {serial}")

    async def _async_doorbells(self) -> BrowseMediaSource:
        serials: set[str] = set()
        for library in libraries(self.hass):
            serials.update(await self.hass.async_add_executor_job(library.devices))
        children = [
            _directory(serial, self._name(serial), MediaClass.DIRECTORY)
            for serial in sorted(serials, key=self._name)
        ]
        return _directory(None, TITLE, MediaClass.VIDEO, children)

    async def _async_days(self, library: Library, serial: str) -> BrowseMediaSource:
        # The owner's days, in Home Assistant's time zone, not the index's UTC.
        days = await self.hass.async_add_executor_job(
            library.days, serial, dt_util.get_default_time_zone()
        )
        children = [
            _directory(f"{serial}:{Kind.DAY}:{day.isoformat()}", _day_title(day), MediaClass.VIDEO)
            for day in days
        ]
        return _directory(serial, self._name(serial), MediaClass.DIRECTORY, children)

    async def _async_clips(self, library: Library, serial: str, day: date) -> BrowseMediaSource:
        clips = await self.hass.async_add_executor_job(
            library.clips, serial, day, dt_util.get_default_time_zone()
        )
        policy = self._policy(serial)
        children = [_clip(serial, clip, policy) for clip in clips]
        title = f"{self._name(serial)} · {_day_title(day)}"
        return _directory(
            f"{serial}:{Kind.DAY}:{day.isoformat()}", title, MediaClass.VIDEO, children
        )


def _parse(identifier: str) -> tuple[str, Kind | None, str]:
    """Split an identifier; raise BrowseError for one we did not make."""
    serial, _, rest = identifier.partition(":")
    if not serial:
        raise BrowseError(f"Unknown media id {identifier}")
    if not rest:
        return serial, None, ""
    kind, _, value = rest.partition(":")
    try:
        return serial, Kind(kind), value
    except ValueError as err:
        raise BrowseError(f"Unknown media id {identifier}") from err


def _day_title(day: date) -> str:
    return day.strftime("%A, %d %B %Y")


def _directory(
    identifier: str | None,
    title: str,
    children_class: MediaClass,
    children: list[BrowseMediaSource] | None = None,
) -> BrowseMediaSource:
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.DIRECTORY,
        media_content_type=MediaType.VIDEO,
        title=title,
        can_play=False,
        can_expand=True,
        children=children,
        children_media_class=children_class,
    )


def _clip(serial: str, clip: Clip, policy: RetentionPolicy | None) -> BrowseMediaSource:
    """Describe a clip: when, what started or extended it, how long, and until when it is kept.

    The owner sees when retention will delete a clip, and so until when to protect it.
    """
    local = dt_util.as_local(clip.start)
    triggers = " + ".join(sorted(clip.triggers))
    title = f"{local:%H:%M:%S} · {triggers} · {clip.duration:.0f} s{_kept(clip, policy)}"
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=f"{serial}:{Kind.CLIP}:{clip.id}",
        media_class=MediaClass.VIDEO,
        media_content_type="video/mp4",
        title=title,
        can_play=True,
        can_expand=False,
        thumbnail=thumbnail_url(clip.id) if clip.thumbnail else None,
    )


def _kept(clip: Clip, policy: RetentionPolicy | None) -> str:
    """Return how long a clip is kept, as its title ends."""
    if clip.protected:
        return " · protected"
    age = None if policy is None else policy.max_age_of(clip.triggers)
    if age is None:
        return ""
    until = dt_util.as_local((clip.kept_since or clip.start) + age)
    return f" · kept until {until:%a %d %b %H:%M}"
