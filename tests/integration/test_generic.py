"""A generic RTSP camera with its button from another entity, against the virtual doorbell."""

from __future__ import annotations

from typing import Any

from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import SOURCE_RECONFIGURE
from homeassistant.const import CONF_NAME, STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.local_doorbell.const import (
    CONF_BUTTON_ENTITY,
    CONF_MOTION_ENTITY,
    CONF_PROTOCOL,
    CONF_SNAPSHOT_URL,
    CONF_STREAM_URL,
    DOMAIN,
)
from custom_components.local_doorbell.generic_tracking import pressed
from tests.helpers.generic import BUTTON, MOTION, camera_input
from virtual_doorbell import VirtualDoorbell

from ..conftest import TEST_VIDEO
from .conftest import FAST_RECORDING, current, entity_id, start_flow, wait_for


@pytest.fixture
async def helpers(hass: HomeAssistant) -> None:
    """Two helpers standing in for a Zigbee button and a PIR sensor."""
    config: dict[str, Any] = {"input_boolean": {"front_button": {}, "front_motion": {}}}
    assert await async_setup_component(hass, "input_boolean", config)


async def _toggle(hass: HomeAssistant, entity: str, on: bool) -> None:
    service = "turn_on" if on else "turn_off"
    await hass.services.async_call("input_boolean", service, {"entity_id": entity}, blocking=True)


@pytest.mark.usefixtures("helpers")
async def test_generic_camera_rings_records_and_shows(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, doorbell: VirtualDoorbell
) -> None:
    result = await hass.config_entries.flow.async_configure(
        await start_flow(hass, "generic"), camera_input(doorbell)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Front door"
    assert result["data"][CONF_PROTOCOL] == "generic"
    entry = result["result"]
    hass.config_entries.async_update_entry(entry, options=FAST_RECORDING)
    assert await hass.config_entries.async_reload(entry.entry_id)
    serial = entry.unique_id
    assert serial
    ring = entity_id(hass, "event", serial, "doorbell")
    motion = entity_id(hass, "binary_sensor", serial, "motion")
    clips = entity_id(hass, "sensor", serial, "clip_count")
    # The camera has no vendor cloud to watch and reports no people.
    registry = er.async_get(hass)
    keys = {e.unique_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)}
    assert f"{serial}_vendor_cloud" not in keys
    assert f"{serial}_person" not in keys
    # The maker and the model, named as for every driver; the owner's name is the device's.
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert (device.name, device.manufacturer, device.model) == (
        "Front door",
        "Generic",
        "RTSP camera (H264)",
    )

    await wait_for(lambda: doorbell.state.counters.rtsp_sessions >= 1)
    await _toggle(hass, MOTION, True)
    await wait_for(lambda: current(hass, motion).state == STATE_ON)
    await _toggle(hass, BUTTON, True)
    await wait_for(lambda: current(hass, ring).attributes.get("event_type") == "ring")
    first = current(hass, ring).state
    # Staying on is not another press; off and on again is.
    await _toggle(hass, BUTTON, False)
    await hass.async_block_till_done()
    assert current(hass, ring).state == first
    await _toggle(hass, BUTTON, True)
    await wait_for(lambda: current(hass, ring).state != first)
    await _toggle(hass, MOTION, False)
    await wait_for(lambda: current(hass, motion).state == STATE_OFF)
    await wait_for(lambda: current(hass, clips).state not in ("0", STATE_UNKNOWN), 30)

    image = await async_get_image(hass, entity_id(hass, "camera", serial, "camera"))
    assert image.content.startswith(b"\xff\xd8")
    # The camera's addresses carry its password: diagnostics leave them out.
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert doorbell.password not in str(diagnostics)
    assert diagnostics["entry"][CONF_STREAM_URL] == "**REDACTED**"
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("helpers")
async def test_any_character_in_the_password(hass: HomeAssistant, socket_enabled: None) -> None:
    """Backslash, "@", ":", space and non-ASCII as typed; "/", "%", "#" percent-encoded."""
    doorbell = VirtualDoorbell(password="a\\b@c:d/e%f#g hü", video=TEST_VIDEO)
    await doorbell.start()
    try:
        typed = doorbell.rtsp_url().replace(doorbell.password, "a\\b@c:d%2Fe%25f%23g hü")
        data = camera_input(doorbell, **{CONF_STREAM_URL: typed})
        del data[CONF_SNAPSHOT_URL]
        flow_id = await start_flow(hass, "generic")
        result = await hass.config_entries.flow.async_configure(flow_id, data)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        entry = result["result"]
        hass.config_entries.async_update_entry(entry, options=FAST_RECORDING)
        assert await hass.config_entries.async_reload(entry.entry_id)
        clips = entity_id(hass, "sensor", str(entry.unique_id), "clip_count")
        await wait_for(lambda: doorbell.state.counters.rtsp_sessions >= 1)
        await _toggle(hass, BUTTON, True)
        await wait_for(lambda: current(hass, clips).state not in ("0", STATE_UNKNOWN), 30)
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await doorbell.stop()


@pytest.mark.usefixtures("helpers")
async def test_generic_camera_without_motion_or_snapshot_url(
    hass: HomeAssistant, doorbell: VirtualDoorbell
) -> None:
    data = camera_input(doorbell)
    del data[CONF_MOTION_ENTITY], data[CONF_SNAPSHOT_URL]
    result = await hass.config_entries.flow.async_configure(await start_flow(hass, "generic"), data)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    serial = result["result"].unique_id
    assert serial
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("binary_sensor", DOMAIN, f"{serial}_motion") is None
    # Pictures come from the recorded stream once a keyframe has arrived.
    camera = entity_id(hass, "camera", serial, "camera")
    await wait_for(lambda: doorbell.state.counters.rtsp_sessions >= 1)
    clips = result["result"].runtime_data.clips
    await wait_for(lambda: clips.latest_jpeg() is not None)
    image = await async_get_image(hass, camera)
    assert image.content.startswith(b"\xff\xd8")


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({CONF_STREAM_URL: "http://127.0.0.1/stream"}, CONF_STREAM_URL, "invalid_url"),
        ({CONF_SNAPSHOT_URL: "ftp://127.0.0.1/snap.jpg"}, CONF_SNAPSHOT_URL, "invalid_url"),
        ({CONF_STREAM_URL: "rtsp://"}, CONF_STREAM_URL, "invalid_url"),
        ({CONF_STREAM_URL: "rtsp://admin:a/b@127.0.0.1/live"}, CONF_STREAM_URL, "invalid_url"),
        ({CONF_STREAM_URL: "rtsp://203.0.113.9:554/live"}, "base", "not_local"),
        ({CONF_SNAPSHOT_URL: "http://203.0.113.9/snap.jpg"}, "base", "not_local"),
        ({"password": "wrong"}, "base", "invalid_auth"),
        ({CONF_STREAM_URL: "rtsp://127.0.0.1:1/live"}, "base", "cannot_connect"),
    ],
)
@pytest.mark.usefixtures("helpers")
async def test_generic_flow_errors(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    changes: dict[str, str],
    field: str,
    error: str,
) -> None:
    if changes.pop("password", None):
        changes[CONF_STREAM_URL] = doorbell.rtsp_url().replace(doorbell.password, "wrong")
    flow_id = await start_flow(hass, "generic")
    result = await hass.config_entries.flow.async_configure(
        flow_id, camera_input(doorbell, **changes)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    # The owner corrects it and the camera is added.
    result = await hass.config_entries.flow.async_configure(flow_id, camera_input(doorbell))
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("helpers")
async def test_the_same_stream_is_added_once(
    hass: HomeAssistant, doorbell: VirtualDoorbell
) -> None:
    result = await hass.config_entries.flow.async_configure(
        await start_flow(hass, "generic"), camera_input(doorbell)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await hass.config_entries.flow.async_configure(
        await start_flow(hass, "generic"), camera_input(doorbell, **{CONF_NAME: "Again"})
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("helpers")
async def test_reconfigure_a_generic_camera(hass: HomeAssistant, doorbell: VirtualDoorbell) -> None:
    result = await hass.config_entries.flow.async_configure(
        await start_flow(hass, "generic"), camera_input(doorbell)
    )
    entry = result["result"]
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["step_id"] == "reconfigure_generic"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], camera_input(doorbell, **{CONF_STREAM_URL: "rtsp://203.0.113.9/x"})
    )
    assert result["errors"] == {"base": "not_local"}
    changed = camera_input(doorbell, **{CONF_BUTTON_ENTITY: MOTION})
    del changed[CONF_MOTION_ENTITY]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], changed)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_BUTTON_ENTITY] == MOTION
    assert CONF_MOTION_ENTITY not in entry.data
    # The reloaded entry listens to the new button.
    ring = entity_id(hass, "event", str(entry.unique_id), "doorbell")
    await _toggle(hass, MOTION, True)
    await wait_for(lambda: current(hass, ring).attributes.get("event_type") == "ring")


def _state(entity: str, value: str) -> State:
    return State(entity, value)


@pytest.mark.parametrize(
    ("entity", "old", "new", "expected"),
    [
        ("binary_sensor.button", STATE_OFF, STATE_ON, True),
        ("binary_sensor.button", STATE_ON, STATE_OFF, False),
        ("binary_sensor.button", STATE_UNAVAILABLE, STATE_ON, False),
        ("binary_sensor.button", STATE_UNKNOWN, STATE_ON, False),
        ("binary_sensor.button", None, STATE_ON, False),
        ("event.button", "2026-11-27T10:00:00+00:00", "2026-11-27T10:00:05+00:00", True),
        ("event.button", STATE_UNKNOWN, "2026-11-27T10:00:05+00:00", True),
        ("event.button", STATE_UNAVAILABLE, "2026-11-27T10:00:05+00:00", False),
        ("event.button", "2026-11-27T10:00:05+00:00", STATE_UNAVAILABLE, False),
        ("event.button", "2026-11-27T10:00:05+00:00", "2026-11-27T10:00:05+00:00", False),
        ("event.button", None, "2026-11-27T10:00:05+00:00", False),
    ],
)
def test_what_counts_as_a_press(entity: str, old: str | None, new: str, expected: bool) -> None:
    before = None if old is None else _state(entity, old)
    assert pressed(before, _state(entity, new)) is expected


@pytest.mark.usefixtures("helpers")
async def test_an_event_entity_button(hass: HomeAssistant, doorbell: VirtualDoorbell) -> None:
    """ESPHome, Shelly, Zigbee and Z-Wave buttons are event entities: each firing is a press."""
    button = "event.porch_button"
    hass.states.async_set(button, STATE_UNKNOWN)
    data = camera_input(doorbell, **{CONF_BUTTON_ENTITY: button})
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Porch",
        unique_id="PORCH0000001",
        data={**data, CONF_PROTOCOL: "generic"},
        version=1,
        minor_version=2,
        options=FAST_RECORDING,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    ring = entity_id(hass, "event", "PORCH0000001", "doorbell")
    hass.states.async_set(button, "2026-11-27T10:00:00.000+00:00", {"event_type": "press"})
    await wait_for(lambda: current(hass, ring).attributes.get("event_type") == "ring")
