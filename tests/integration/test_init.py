"""Setup, unload, and what happens when the doorbell goes away or refuses us."""

from __future__ import annotations

from datetime import timedelta
import logging
from pathlib import Path
import threading

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.local_doorbell.const import CONF_PROTOCOL, DOMAIN
from virtual_doorbell import VirtualDoorbell

from .conftest import (
    FAST_RECORDING,
    current,
    device_entry,
    entity_id,
    entry_data,
    mock_entry,
    set_up_entry,
    wait_for,
)


def _recording_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("ingest ")]


async def test_a_damaged_audit_log_is_kept_aside_and_the_doorbell_works(
    hass: HomeAssistant, doorbell: VirtualDoorbell, config_dir: Path
) -> None:
    root = config_dir / "local_doorbell" / "recordings"
    await hass.async_add_executor_job(lambda: root.mkdir(parents=True))
    damaged = b"SQLite format 3\x00" + b"\xff" * 5000
    await hass.async_add_executor_job((root / "audit.sqlite3").write_bytes, damaged)
    entry = await set_up_entry(hass, doorbell)
    assert entry.state is ConfigEntryState.LOADED
    await hass.async_block_till_done()
    (aside,) = await hass.async_add_executor_job(lambda: list(root.glob("audit.sqlite3.corrupt-*")))
    assert await hass.async_add_executor_job(aside.read_bytes) == damaged
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"audit_log_damaged_{aside.name}")
    assert issue is not None
    assert issue.is_persistent
    assert issue.translation_placeholders == {"root": str(root), "aside": str(aside)}


async def test_a_setup_that_fails_after_recording_began_stops_the_recorder(
    hass: HomeAssistant, doorbell: VirtualDoorbell, config_dir: Path
) -> None:
    # An audit log that cannot be opened at all (not damaged: a folder in its place).
    root = config_dir / "local_doorbell" / "recordings"
    await hass.async_add_executor_job(lambda: (root / "audit.sqlite3").mkdir(parents=True))
    entry = mock_entry(hass, doorbell)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    await wait_for(lambda: not _recording_threads())
    await wait_for(lambda: doorbell.state.counters.rtsp_sessions == 0)
    # The library was let go of too: the next attempt opens it afresh and works.
    await hass.async_add_executor_job((root / "audit.sqlite3").rmdir)
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert entry.runtime_data.clips.library.root == root


async def test_setup_creates_one_device_with_its_entities(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    assert entry.state is ConfigEntryState.LOADED
    device = device_entry(hass, entry)
    assert device.manufacturer == "Amcrest"
    assert device.model == "AD410"
    assert device.sw_version == doorbell.state.firmware
    assert (dr.CONNECTION_NETWORK_MAC, doorbell.state.mac.lower()) in device.connections
    assert device.configuration_url == f"http://127.0.0.1:{doorbell.http_port}/"
    serial = doorbell.state.serial
    for platform, key in [
        ("camera", "camera"),
        ("event", "doorbell"),
        ("binary_sensor", "motion"),
        ("binary_sensor", "person"),
        ("binary_sensor", "event_connection"),
        ("binary_sensor", "vendor_cloud"),
    ]:
        assert hass.states.get(entity_id(hass, platform, serial, key)) is not None


async def test_unload_closes_the_event_stream(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    await wait_for(lambda: doorbell.state.counters.event_clients == 0)


async def test_setup_retries_when_the_doorbell_is_down(
    hass: HomeAssistant, doorbell: VirtualDoorbell
) -> None:
    await doorbell.fault("reboot", 30)
    entry = mock_entry(hass, doorbell)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "cannot_connect"


async def test_setup_with_refused_credentials_starts_reauth(
    hass: HomeAssistant, doorbell: VirtualDoorbell
) -> None:
    entry = mock_entry(hass, doorbell, data=entry_data(doorbell, password="stale"))
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def _set_up_at(hass: HomeAssistant, host: str) -> MockConfigEntry:
    """Try to set up an entry for a doorbell at `host` that no test serves."""
    data = {CONF_HOST: host, "port": 80, "username": "admin", "password": "x"}
    entry = MockConfigEntry(domain=DOMAIN, unique_id="X", data=data)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    return entry


async def test_setup_refuses_a_public_address(hass: HomeAssistant) -> None:
    entry = await _set_up_at(hass, "8.8.8.8")
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.error_reason_translation_key == "not_local"
    assert entry.error_reason_translation_placeholders == {
        "host": "8.8.8.8",
        "address": "8.8.8.8",
    }


async def test_reboot_makes_entities_unavailable_then_they_recover(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    serial = doorbell.state.serial
    event_entity = entity_id(hass, "event", serial, "doorbell")
    connection = entity_id(hass, "binary_sensor", serial, "event_connection")
    await doorbell.fault("reboot", 2)
    await wait_for(lambda: current(hass, event_entity).state == STATE_UNAVAILABLE)
    assert current(hass, connection).state == "off"
    await wait_for(lambda: current(hass, event_entity).state != STATE_UNAVAILABLE, 20)
    assert current(hass, connection).state == "on"
    assert caplog.text.count("is unreachable") == 1
    assert caplog.text.count("is back online") == 1
    doorbell.press()
    await wait_for(lambda: current(hass, event_entity).attributes.get("event_type") == "ring")


async def test_refused_credentials_while_running_start_reauth(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    await doorbell.fault("refuse_auth")
    await doorbell.fault("drop_events")
    await wait_for(lambda: bool(hass.config_entries.flow.async_progress_by_handler(DOMAIN)), 20)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flows[0]["context"]["source"] == "reauth"
    camera = entity_id(hass, "camera", doorbell.state.serial, "camera")
    assert current(hass, camera).state == STATE_UNAVAILABLE


@pytest.mark.usefixtures("no_such_name")
async def test_setup_retries_when_the_name_does_not_resolve(hass: HomeAssistant) -> None:
    entry = await _set_up_at(hass, "doorbell.invalid")
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "cannot_connect"


async def test_entries_from_before_other_protocols_migrate_to_dahua(
    hass: HomeAssistant, doorbell: VirtualDoorbell
) -> None:
    entry = await set_up_entry(hass, doorbell, version=1, minor_version=1, options={})
    assert entry.state is ConfigEntryState.LOADED
    assert entry.minor_version == 3
    assert entry.data == {**entry_data(doorbell), CONF_PROTOCOL: "dahua"}
    # Its clips were kept 72 hours, the default then: so they stay, whatever started them.
    assert entry.options == dict.fromkeys(RETENTION, 72.0)


RETENTION = ("retention_ring_hours", "retention_motion_hours", "retention_person_hours")


async def test_one_retention_time_becomes_each_triggers(
    hass: HomeAssistant, doorbell: VirtualDoorbell
) -> None:
    old = {**FAST_RECORDING, "retention_hours": 12, "record_triggers": ["ring", "motion"]}
    data = {**entry_data(doorbell), CONF_PROTOCOL: "dahua"}
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=doorbell.state.serial,
        data=data,
        options=old,
        version=1,
        minor_version=2,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.minor_version == 3
    assert entry.data == data
    assert entry.options == {
        **FAST_RECORDING,
        "record_triggers": ["ring", "motion"],
        **dict.fromkeys(RETENTION, 12.0),
    }
    policy = entry.runtime_data.options.retention
    assert {policy.max_age_of({kind}) for kind in ("ring", "motion", "person")} == {
        timedelta(hours=12)
    }
    for key in ("ring", "motion", "person"):
        sensor = entity_id(hass, "sensor", doorbell.state.serial, f"retention_{key}")
        assert float(current(hass, sensor).state) == 12


async def test_entries_from_a_newer_release_are_left_alone(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN, unique_id="NEWER", data={}, version=2)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
