"""The ring moment: the clip a press is recorded in and the picture at the press.

The recorder opens the clip at the first packet after the press (a picture interval and the
file's creation, tens of milliseconds) and decodes the picture just after that; the ring
waits for the first, within `CLIP_WAIT`, so that automations read where its clip is, and
never for the second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
from pathlib import Path

from homeassistant.components.logbook import async_log_entry
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .devices.base import DoorbellEvent, EventKind
from .recording.archive.layout import clip_id_parts
from .recording.capture.keyframe import Picture
from .recording.capture.recorder import Recorder

_LOGGER = logging.getLogger(__name__)

# Enough for a picture interval of a 5 fps stream and the file's creation; a disk slower than
# that must not hold up the ring.
CLIP_WAIT = 0.5

ATTR_CLIP_ID = "clip_id"
ATTR_IMAGE_PATH = "image_path"


@dataclass(frozen=True, slots=True)
class Ring:
    """A press, and the clip it is recorded in (None when it is not, or not yet open)."""

    event: DoorbellEvent
    clip_id: str | None


@dataclass(frozen=True, slots=True)
class Visitor:
    """The picture at a press, and the clip it is the thumbnail of when known."""

    jpeg: bytes
    at: datetime  # when the picture arrived
    clip_id: str | None


class RingMoments:
    """Turns each press into a clip (if rings are recorded) and a picture, and tells both."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, recorder: Recorder, *, record: bool
    ) -> None:
        """Use `recorder`; `record`: whether rings are among the recorded triggers."""
        self._hass = hass
        self._entry = entry
        self._recorder = recorder
        self._record = record
        self._rings: set[Callable[[Ring], None]] = set()
        self._visitors: set[Callable[[Visitor], None]] = set()

    @callback
    def async_subscribe_rings(self, handler: Callable[[Ring], None]) -> CALLBACK_TYPE:
        """Call `handler` on each press, once its clip is open or known not to be."""
        self._rings.add(handler)
        return lambda: self._rings.discard(handler)

    @callback
    def async_subscribe_visitors(self, handler: Callable[[Visitor], None]) -> CALLBACK_TYPE:
        """Call `handler` with each press's picture."""
        self._visitors.add(handler)
        return lambda: self._visitors.discard(handler)

    @callback
    def handle(self, event: DoorbellEvent) -> None:
        """Start the clip and the picture of a press; subscribed to rings."""
        clip = self._recorder.trigger(EventKind.RING.value) if self._record else None
        picture = self._recorder.capture()
        if clip is None:
            self._tell_ring(Ring(event, None))
        else:
            self._entry.async_create_background_task(
                self._hass, self._async_ring(event, clip), f"{DOMAIN} ring clip"
            )
        self._entry.async_create_background_task(
            self._hass, self._async_picture(picture, clip), f"{DOMAIN} ring picture"
        )

    async def _async_ring(self, event: DoorbellEvent, clip: Future[Path | None]) -> None:
        opened = asyncio.wrap_future(clip)
        await asyncio.wait([opened], timeout=CLIP_WAIT)  # never cancels the wait for it
        if not opened.done():
            _LOGGER.debug("The clip of a ring did not open within %s s", CLIP_WAIT)
        self._tell_ring(Ring(event, _clip_id(clip)))

    async def _async_picture(
        self, picture: Future[Picture | None], clip: Future[Path | None] | None
    ) -> None:
        found = await asyncio.wrap_future(picture)
        if found is None:
            _LOGGER.debug("No picture of the press: recording is paused or the stream is down")
            return
        visitor = Visitor(found.jpeg, datetime.fromtimestamp(found.wall, UTC), _clip_id(clip))
        for handler in list(self._visitors):
            handler(visitor)

    @callback
    def _tell_ring(self, ring: Ring) -> None:
        for handler in list(self._rings):
            handler(ring)


def _clip_id(clip: Future[Path | None] | None) -> str | None:
    """Return the id of a clip that opened (its file's name, as the library makes it)."""
    if clip is None or not clip.done() or clip.cancelled():
        return None
    path = clip.result()
    return None if path is None else path.stem


@callback
def async_log_ring(
    hass: HomeAssistant, name: str, entity_id: str, clip_id: str, context: Context
) -> None:
    """Write "Ring — clip 14:32:05" to the logbook: the clip's title in the media browser."""
    start, _ = clip_id_parts(clip_id)
    async_log_entry(
        hass,
        name,
        f"Ring — clip {dt_util.as_local(start):%H:%M:%S}",
        domain=DOMAIN,
        entity_id=entity_id,
        context=context,
    )
