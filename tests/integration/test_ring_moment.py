"""The ring moment: the picture at the press, and the ring telling where its clip is."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import io

import aiohttp
import av
from homeassistant.components.logbook import EVENT_LOGBOOK_ENTRY
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, State
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.local_doorbell.const import CONF_RECORD_TRIGGERS, DOMAIN
from custom_components.local_doorbell.recording.archive.layout import clip_id_parts
from virtual_doorbell import VirtualDoorbell
from virtual_doorbell.picture import read_frame_counter

from .conftest import AddEntry, current, entity_id, wait_for


def _counter(jpeg: bytes) -> int:
    """Return the frame counter burned into a JPEG, read at the size it was served."""
    with av.open(io.BytesIO(jpeg), mode="r") as container:
        frame = next(container.decode(video=0))
    return read_frame_counter(frame)


async def _ready(doorbell: VirtualDoorbell) -> None:
    """Wait until the recorder streams and holds a keyframe of pre-roll."""
    await wait_for(lambda: doorbell.state.counters.rtsp_sessions >= 1)
    await asyncio.sleep(1.5)


async def _press(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> int:
    """Press through the simulator's control API; return the frame it was sending then."""
    async with session.post(f"{doorbell.url}/sim/press") as resp:
        assert resp.status == 200
        frame: int = (await resp.json())["press_frame"]
    return frame


def _changes(hass: HomeAssistant, entity: str) -> list[State]:
    """Collect an entity's new states from now on."""
    states: list[State] = []

    def changed(event: Event) -> None:
        if event.data["entity_id"] == entity and event.data["new_state"] is not None:
            states.append(event.data["new_state"])

    hass.bus.async_listen("state_changed", changed)
    return states


@dataclass(frozen=True, slots=True)
class Moment:
    """The doorbell's ring event and last-visitor picture, and their new states."""

    event: str
    image: str
    rings: list[State]
    pictures: list[State]


def _watch(hass: HomeAssistant, doorbell: VirtualDoorbell) -> Moment:
    """Collect the new states of the ring event and of the picture from now on."""
    event = entity_id(hass, "event", doorbell.state.serial, "doorbell")
    image = entity_id(hass, "image", doorbell.state.serial, "last_visitor")
    return Moment(event, image, _changes(hass, event), _changes(hass, image))


async def _clip_ids(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    library = entry.runtime_data.clips.library
    clips = await hass.async_add_executor_job(library.clips, entry.unique_id)
    return [clip.id for clip in clips]


async def test_the_picture_at_the_press_and_where_its_clip_is(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    session: aiohttp.ClientSession,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
) -> None:
    moment = _watch(hass, doorbell)
    logbook: list[Event] = []
    hass.bus.async_listen(EVENT_LOGBOOK_ENTRY, logbook.append)
    await _ready(doorbell)

    frame = await _press(session, doorbell)
    await wait_for(lambda: bool(moment.rings) and bool(moment.pictures))
    ring = moment.rings[0].attributes
    assert ring["event_type"] == "ring"
    # The picture, fetched as a phone would: the relative path, signed in.
    assert ring["image_path"] == f"/api/image_proxy/{moment.image}"
    client = await hass_client()
    served = await client.get(ring["image_path"])
    assert served.status == 200
    jpeg = await served.read()
    assert abs(_counter(jpeg) - frame) <= 2, (_counter(jpeg), frame)
    assert moment.pictures[0].state != STATE_UNKNOWN

    # The ring named its clip while it was being recorded; it is that clip.
    clip_id = ring["clip_id"]
    assert isinstance(clip_id, str)
    assert clip_id.split("-")[1] == "ring"
    count = entity_id(hass, "sensor", doorbell.state.serial, "clip_count")
    await wait_for(lambda: current(hass, count).state == "1", 30)
    assert await _clip_ids(hass, entry) == [clip_id]
    # Its thumbnail is the picture at the press.
    thumbnail = await client.get(f"/api/{DOMAIN}/thumbnails/{clip_id}.jpg")
    assert _counter(await thumbnail.read()) == _counter(jpeg)
    # The clip coming into the library does not replace the picture at the press.
    assert (await client.get(ring["image_path"])).status == 200
    assert len(moment.pictures) == 1

    start, _ = clip_id_parts(clip_id)
    entries = [e.data for e in logbook if e.data.get("entity_id") == moment.event]
    assert entries == [
        {
            "name": current(hass, moment.event).name,
            "message": f"Ring — clip {dt_util.as_local(start):%H:%M:%S}",
            "domain": DOMAIN,
            "entity_id": moment.event,
        }
    ]
    # Deleting the clip takes its picture with it: nothing else is left to show.
    await hass.services.async_call(DOMAIN, "delete_clip", {"clip_id": clip_id}, blocking=True)
    await wait_for(lambda: current(hass, moment.image).state == STATE_UNKNOWN)
    assert "entity_picture" not in current(hass, moment.image).attributes


async def test_after_a_restart_the_clip_thumbnail_is_the_last_visitor(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    session: aiohttp.ClientSession,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
) -> None:
    moment = _watch(hass, doorbell)
    await _ready(doorbell)
    frame = await _press(session, doorbell)
    count = entity_id(hass, "sensor", doorbell.state.serial, "clip_count")
    await wait_for(lambda: bool(moment.pictures) and current(hass, count).state == "1", 30)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await wait_for(lambda: current(hass, moment.image).state != "unavailable")
    client = await hass_client()
    served = await client.get(f"/api/image_proxy/{moment.image}")
    assert served.status == 200
    assert abs(_counter(await served.read()) - frame) <= 2


async def test_a_ring_that_is_not_recorded_fires_at_once_with_its_picture(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    session: aiohttp.ClientSession,
    doorbell: VirtualDoorbell,
    add_entry: AddEntry,
) -> None:
    entry = await add_entry({CONF_RECORD_TRIGGERS: ["motion"]})
    moment = _watch(hass, doorbell)
    await _ready(doorbell)
    frame = await _press(session, doorbell)
    await wait_for(lambda: bool(moment.rings) and bool(moment.pictures))
    assert moment.rings[0].attributes["clip_id"] is None
    served = await (await hass_client()).get(moment.rings[0].attributes["image_path"])
    assert abs(_counter(await served.read()) - frame) <= 2
    await asyncio.sleep(1.5)  # past the post-roll a clip would have had
    assert await _clip_ids(hass, entry) == []


async def test_in_privacy_mode_a_ring_has_neither_clip_nor_picture(
    hass: HomeAssistant,
    session: aiohttp.ClientSession,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
) -> None:
    await _ready(doorbell)
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": entity_id(hass, "switch", doorbell.state.serial, "privacy_mode")},
        blocking=True,
    )
    moment = _watch(hass, doorbell)
    await _press(session, doorbell)
    await wait_for(lambda: bool(moment.rings))
    assert moment.rings[0].attributes["clip_id"] is None
    await asyncio.sleep(1.5)  # the moment has passed; the recorder answered with nothing
    assert moment.pictures == []
    assert current(hass, moment.image).state == STATE_UNKNOWN
