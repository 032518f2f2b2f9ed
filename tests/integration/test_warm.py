"""Warm on ring: a press starts Home Assistant's stream before anyone asks, for a window.

Home Assistant's HLS output idles out `OUTPUT_IDLE_TIMEOUT` (30 s) after the last wake,
which its timer counts from the real loop clock; `async_fire_time_changed` runs the timers
due by a moment given in wall-clock time. The tests fire moments just past when a timer set
at a known earlier wake would end, so they tell a re-armed timer from one left to run out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import re
import time
from typing import Any

from homeassistant.components.camera import Camera, get_camera_from_entity_id
from homeassistant.components.stream.const import HLS_PROVIDER, OUTPUT_IDLE_TIMEOUT
from homeassistant.components.stream.core import StreamOutput
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_fire_time_changed_exact,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.local_doorbell.const import (
    CONF_WARM_ON_MOTION,
    CONF_WARM_SECONDS,
    DOMAIN,
)
from custom_components.local_doorbell.models import LocalDoorbellConfigEntry
from virtual_doorbell import VirtualDoorbell

from .conftest import AddEntry, current, entity_id, wait_for

# A window that ends before the HLS output's own idle timeout would (the warmer's last wake
# comes at once), and one that outlasts it by far.
SHORT, LONG = OUTPUT_IDLE_TIMEOUT + 15, 10 * OUTPUT_IDLE_TIMEOUT
GAP = 0.2  # seconds between two wakes the tests tell apart

type SetUp = Callable[..., Awaitable[Camera]]


@pytest.fixture
async def stream(hass: HomeAssistant) -> None:
    """Load Home Assistant's stream with short segments, so a playlist fills in seconds."""
    assert await async_setup_component(hass, "stream", {"stream": {"segment_duration": 2}})


@pytest.fixture
def set_up(hass: HomeAssistant, doorbell: VirtualDoorbell, add_entry: AddEntry) -> SetUp:
    """Return a function that sets the doorbell up with these options and returns its camera.

    The entry is unloaded after the test, which stops its stream.
    """

    async def set_up(options: dict[str, Any] | None = None) -> Camera:
        await add_entry(options)
        camera = entity_id(hass, "camera", doorbell.state.serial, "camera")
        return get_camera_from_entity_id(hass, camera)

    return set_up


@pytest.fixture
def ask_for_stream(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> Callable[[Camera], Awaitable[str]]:
    """Return a function that asks for a camera's stream as the frontend does: its URL."""

    async def ask(camera: Camera) -> str:
        websocket = await hass_ws_client(hass)
        await websocket.send_json({"id": 1, "type": "camera/stream", "entity_id": camera.entity_id})
        answer = await websocket.receive_json()
        assert answer["success"], answer
        return str(answer["result"]["url"])

    return ask


def _hls(camera: Camera) -> StreamOutput | None:
    """Return the camera stream's HLS output, if it has one."""
    return None if camera.stream is None else camera.stream.outputs().get(HLS_PROVIDER)


def _playable(camera: Camera) -> bool:
    """Tell whether a playlist request would answer at once: one segment is complete."""
    return (output := _hls(camera)) is not None and output.last_sequence >= 1


async def _warm_after_press(doorbell: VirtualDoorbell, camera: Camera) -> float:
    """Press; wait until the warmed stream is playable; return the wall-clock time then."""
    assert camera.stream is None
    doorbell.press()
    await wait_for(lambda: _playable(camera), within=30)
    return time.time()


async def _fire_at(hass: HomeAssistant, wall_clock: float) -> None:
    """Run the timers due by a wall-clock moment, and what they start."""
    async_fire_time_changed_exact(hass, datetime.fromtimestamp(wall_clock, UTC))
    await hass.async_block_till_done()


async def _fire_in(hass: HomeAssistant, seconds: float) -> None:
    """Run the timers due within `seconds` from now, and what they start."""
    async_fire_time_changed(hass, datetime.now(UTC) + timedelta(seconds=seconds))
    await hass.async_block_till_done()


def _viewers(hass: HomeAssistant) -> int:
    """Return how many clients play the doorbell's restream (Home Assistant's stream is one)."""
    entry: LocalDoorbellConfigEntry = hass.config_entries.async_entries(DOMAIN)[0]
    return entry.runtime_data.live.viewers


async def _stopped(hass: HomeAssistant, doorbell: VirtualDoorbell, camera: Camera) -> None:
    """Wait until the camera's stream has no output and has left the restream."""
    await wait_for(lambda: _hls(camera) is None and _viewers(hass) == 0)
    assert doorbell.state.counters.rtsp_sessions == 1  # the recorder's, all along


async def _unload(hass: HomeAssistant) -> None:
    """Unload the doorbell, which stops its stream."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_press_warms_the_stream_before_anyone_asks(
    hass: HomeAssistant,
    stream: None,
    hass_client: ClientSessionGenerator,
    doorbell: VirtualDoorbell,
    set_up: SetUp,
    ask_for_stream: Callable[[Camera], Awaitable[str]],
) -> None:
    camera = await set_up()
    await _warm_after_press(doorbell, camera)
    # The stream reads the restream: nobody has asked for live view yet. The device
    # serves the recorder only.
    assert _viewers(hass) == 1
    assert doorbell.state.counters.rtsp_sessions == 1
    output = _hls(camera)
    # The frontend's request: the stream is already there, with complete segments.
    url = await ask_for_stream(camera)
    assert _hls(camera) is output  # the same output, not a new start
    client = await hass_client()
    playlist = await (await client.get(url.replace("master_playlist", "playlist"))).text()
    assert re.search(r"^\./segment/\d+\.m4s$", playlist, re.MULTILINE), playlist
    assert _viewers(hass) == 1


async def test_the_window_outlasts_the_streams_idle_timeout(
    hass: HomeAssistant, stream: None, doorbell: VirtualDoorbell, set_up: SetUp
) -> None:
    camera = await set_up({CONF_WARM_SECONDS: LONG})
    seen = await _warm_after_press(doorbell, camera)
    await asyncio.sleep(GAP)
    # The warmer's first tick re-arms the idle timer the press set...
    await _fire_at(hass, seen + OUTPUT_IDLE_TIMEOUT / 3 + 0.1)
    # ...so when the press's timer would have ended, the stream still runs.
    await _fire_at(hass, seen + OUTPUT_IDLE_TIMEOUT + GAP / 2)
    output = _hls(camera)
    assert output is not None
    assert not output.idle
    assert _viewers(hass) == 1
    await _unload(hass)
    await wait_for(lambda: doorbell.state.counters.rtsp_sessions == 0)


async def test_after_the_window_the_stream_stops_when_nobody_watches(
    hass: HomeAssistant, stream: None, doorbell: VirtualDoorbell, set_up: SetUp
) -> None:
    camera = await set_up({CONF_WARM_SECONDS: SHORT})
    await _warm_after_press(doorbell, camera)
    await _fire_in(hass, SHORT - OUTPUT_IDLE_TIMEOUT + 1)  # the window's last wake
    assert _hls(camera) is not None
    await _fire_in(hass, OUTPUT_IDLE_TIMEOUT + 1)  # the stream's own idle timeout
    await _stopped(hass, doorbell, camera)
    # No tick of the window is left to start it again.
    await _fire_in(hass, OUTPUT_IDLE_TIMEOUT / 3 + 1)
    assert _hls(camera) is None


async def test_a_viewer_watching_when_the_window_ends_keeps_the_stream(
    hass: HomeAssistant,
    stream: None,
    hass_client: ClientSessionGenerator,
    doorbell: VirtualDoorbell,
    set_up: SetUp,
    ask_for_stream: Callable[[Camera], Awaitable[str]],
) -> None:
    camera = await set_up({CONF_WARM_SECONDS: SHORT})
    await _warm_after_press(doorbell, camera)
    url = await ask_for_stream(camera)
    client = await hass_client()
    await _fire_in(hass, SHORT - OUTPUT_IDLE_TIMEOUT + 1)  # the window's last wake
    ended = time.time()
    await asyncio.sleep(GAP)
    # The viewer's player fetches the newest segment, as it does every two seconds.
    output = _hls(camera)
    assert output is not None
    newest = f"segment/{output.last_sequence - 1}.m4s"
    segment = await client.get(url.replace("master_playlist.m3u8", newest))
    assert segment.status == 200
    # When the window's last wake runs out, the viewer's request still holds the stream.
    await _fire_at(hass, ended + OUTPUT_IDLE_TIMEOUT + GAP / 2)
    assert _hls(camera) is not None
    assert _viewers(hass) == 1
    # The viewer leaves: the stream idles out as any stream does.
    await _fire_in(hass, OUTPUT_IDLE_TIMEOUT + 1)
    await _stopped(hass, doorbell, camera)


async def test_a_window_shorter_than_the_idle_timeout_lasts_the_idle_timeout(
    hass: HomeAssistant, stream: None, doorbell: VirtualDoorbell, set_up: SetUp
) -> None:
    camera = await set_up({CONF_WARM_SECONDS: OUTPUT_IDLE_TIMEOUT / 3})
    await _warm_after_press(doorbell, camera)
    await _fire_in(hass, OUTPUT_IDLE_TIMEOUT / 3 + 1)  # past the window: no tick, no end
    assert _hls(camera) is not None
    await _fire_in(hass, OUTPUT_IDLE_TIMEOUT + 1)
    await _stopped(hass, doorbell, camera)


async def test_repeated_presses_extend_the_window(
    hass: HomeAssistant, stream: None, doorbell: VirtualDoorbell, set_up: SetUp
) -> None:
    camera = await set_up({CONF_WARM_SECONDS: SHORT})
    event = entity_id(hass, "event", doorbell.state.serial, "doorbell")
    await _warm_after_press(doorbell, camera)
    first = current(hass, event).state
    doorbell.press()
    await wait_for(lambda: current(hass, event).state != first)
    second = time.time()
    # The first press's window has its last wake now; the second's goes on waking.
    await _fire_at(hass, second + SHORT - OUTPUT_IDLE_TIMEOUT - 0.5)
    woken = time.time()
    await asyncio.sleep(GAP)
    await _fire_in(hass, OUTPUT_IDLE_TIMEOUT / 3 + 0.5)
    await _fire_at(hass, woken + OUTPUT_IDLE_TIMEOUT + GAP / 2)
    assert _hls(camera) is not None


@pytest.mark.parametrize(
    ("options", "start", "warms"),
    [
        ({}, True, False),
        ({CONF_WARM_ON_MOTION: True}, True, True),
        ({CONF_WARM_ON_MOTION: True}, False, False),
        ({CONF_WARM_SECONDS: 0, CONF_WARM_ON_MOTION: True}, True, False),
    ],
    ids=["motion off by default", "motion on", "motion ending", "warming off"],
)
async def test_motion_warms_only_when_the_owner_wants_it(
    hass: HomeAssistant,
    stream: None,
    doorbell: VirtualDoorbell,
    set_up: SetUp,
    options: dict[str, Any],
    start: bool,
    warms: bool,
) -> None:
    camera = await set_up(options)
    motion = entity_id(hass, "binary_sensor", doorbell.state.serial, "motion")
    events = doorbell.state.counters.motion_events
    doorbell.motion(start)
    await wait_for(lambda: current(hass, motion).state == ("on" if start else "off"))
    await wait_for(lambda: doorbell.state.counters.motion_events == events + 1)
    await hass.async_block_till_done()
    if warms:
        await wait_for(lambda: _playable(camera), within=30)
    else:
        assert camera.stream is None


async def test_warming_off_ignores_presses(
    hass: HomeAssistant, stream: None, doorbell: VirtualDoorbell, set_up: SetUp
) -> None:
    camera = await set_up({CONF_WARM_SECONDS: 0})
    doorbell.press()
    event = entity_id(hass, "event", doorbell.state.serial, "doorbell")
    await wait_for(lambda: current(hass, event).state != "unknown")
    await hass.async_block_till_done()
    assert camera.stream is None
    assert _viewers(hass) == 0


async def test_unload_stops_the_warmed_stream(
    hass: HomeAssistant, stream: None, doorbell: VirtualDoorbell, set_up: SetUp
) -> None:
    camera = await set_up({CONF_WARM_SECONDS: LONG})
    await _warm_after_press(doorbell, camera)
    await _unload(hass)
    assert _hls(camera) is None
    await wait_for(lambda: doorbell.state.counters.rtsp_sessions == 0)
    # The window's timers went with the entry: no tick starts the stream again.
    await _fire_in(hass, OUTPUT_IDLE_TIMEOUT / 3 + 1)
    assert _hls(camera) is None
    assert doorbell.state.counters.rtsp_sessions == 0


async def test_without_homeassistants_stream_a_press_only_logs(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    set_up: SetUp,
    caplog: pytest.LogCaptureFixture,
) -> None:
    camera = await set_up()  # no stream: as without default_config
    doorbell.press()
    await wait_for(lambda: "Cannot warm the live view" in caplog.text)
    doorbell.press()
    await wait_for(lambda: doorbell.state.counters.presses == 2)
    await hass.async_block_till_done()
    assert caplog.text.count("Cannot warm the live view") == 1
    assert camera.stream is None
