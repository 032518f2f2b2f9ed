"""The options flow: recording and retention settings, with the storage folder checked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.local_doorbell.const import (
    CONF_MAX_CLIP_LENGTH,
    CONF_MAX_STORAGE_GB,
    CONF_MIN_FREE_GB,
    CONF_POST_ROLL,
    CONF_PRE_ROLL,
    CONF_RECORD_TRIGGERS,
    CONF_RETENTION_MOTION_HOURS,
    CONF_RETENTION_PERSON_HOURS,
    CONF_RETENTION_RING_HOURS,
    CONF_STORAGE_ROOT,
    CONF_WARM_ON_MOTION,
    CONF_WARM_SECONDS,
)
from custom_components.local_doorbell.devices.base import EventKind
from virtual_doorbell import VirtualDoorbell


def _options(root: str, **changes: object) -> dict[str, object]:
    return {
        CONF_STORAGE_ROOT: root,
        CONF_RECORD_TRIGGERS: ["ring", "motion"],
        CONF_PRE_ROLL: 3,
        CONF_POST_ROLL: 5,
        CONF_MAX_CLIP_LENGTH: 60,
        CONF_RETENTION_RING_HOURS: 96,
        CONF_RETENTION_MOTION_HOURS: 12,
        CONF_RETENTION_PERSON_HOURS: 36,
        CONF_MAX_STORAGE_GB: 2,
        CONF_MIN_FREE_GB: 1,
        "keep_vendor_cloud_off": True,
        CONF_WARM_SECONDS: 60,
        CONF_WARM_ON_MOTION: True,
        **changes,
    }


async def test_defaults_are_shown(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry, config_dir: Path
) -> None:
    hass.config_entries.async_update_entry(entry, options={})
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    schema = result["data_schema"]
    assert schema is not None
    suggested = {str(key): key.description["suggested_value"] for key in schema.schema}
    assert suggested == {
        CONF_STORAGE_ROOT: str(config_dir / "local_doorbell" / "recordings"),
        CONF_RECORD_TRIGGERS: ["ring"],
        CONF_PRE_ROLL: 5,
        CONF_POST_ROLL: 10,
        CONF_MAX_CLIP_LENGTH: 120,
        CONF_RETENTION_RING_HOURS: 72,
        CONF_RETENTION_MOTION_HOURS: 24,
        CONF_RETENTION_PERSON_HOURS: 48,
        CONF_MAX_STORAGE_GB: 0,
        CONF_MIN_FREE_GB: 1,
        "keep_vendor_cloud_off": True,
        CONF_WARM_SECONDS: 120,
        CONF_WARM_ON_MOTION: False,
    }


async def test_options_are_saved_and_the_entry_reloads(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry, tmp_path: Path
) -> None:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    root = tmp_path / "clips" / "front"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], _options(str(root))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_STORAGE_ROOT] == str(root)
    assert root.is_dir()
    assert entry.runtime_data.options.triggers == {"ring", "motion"}
    retention = entry.runtime_data.options.retention
    assert retention.max_total_bytes == 2 * 1024**3
    assert retention.max_age_by_trigger == {
        "ring": timedelta(hours=96),
        "motion": timedelta(hours=12),
        "person": timedelta(hours=36),
    }
    assert retention.max_age_of({"motion", "person"}) == timedelta(hours=36)
    assert entry.runtime_data.options.retention_hours == {
        EventKind.RING: 96,
        EventKind.MOTION: 12,
        EventKind.PERSON: 36,
    }

    assert entry.runtime_data.options.warm_seconds == 60
    assert entry.runtime_data.options.warm_triggers == {"ring", "motion"}


@pytest.mark.parametrize(
    ("field", "hours"),
    [
        (CONF_RETENTION_RING_HOURS, 0),
        (CONF_RETENTION_MOTION_HOURS, 0.5),
        (CONF_RETENTION_PERSON_HOURS, 8761),
        (CONF_RETENTION_RING_HOURS, -1),
    ],
)
async def test_retention_out_of_range_is_refused(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    tmp_path: Path,
    field: str,
    hours: float,
) -> None:
    # From an hour (at least one clip's length) to a year, for each trigger on its own.
    before = dict(entry.options)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.options.async_configure(
            result["flow_id"], _options(str(tmp_path), **{field: hours})
        )
    assert err.value.path == [field]
    assert entry.options == before


@pytest.mark.parametrize(
    ("root", "field", "error"),
    [
        ("relative/path", CONF_STORAGE_ROOT, "not_absolute"),
        ("{config}", CONF_STORAGE_ROOT, "config_dir"),
        ("{config}/.storage/clips", CONF_STORAGE_ROOT, "managed_folder"),
        ("{config}/custom_components", CONF_STORAGE_ROOT, "managed_folder"),
        ("{file}/below-a-file", CONF_STORAGE_ROOT, "not_creatable"),
        ("{media}", CONF_STORAGE_ROOT, "media_folder"),
        ("{media}/local_doorbell", CONF_STORAGE_ROOT, "media_folder"),
    ],
)
async def test_bad_storage_roots_are_refused(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    tmp_path: Path,
    media_dir: Path,
    root: str,
    field: str,
    error: str,
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    root = root.format(config=hass.config.config_dir, file=a_file, media=media_dir)
    before = dict(entry.options)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], _options(root))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    assert entry.options == before


async def test_post_roll_longer_than_a_clip_is_refused(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry, tmp_path: Path
) -> None:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], _options(str(tmp_path), **{CONF_POST_ROLL: 90, CONF_MAX_CLIP_LENGTH: 60})
    )
    assert result["errors"] == {CONF_POST_ROLL: "post_roll_too_long"}


async def test_the_default_folder_is_followed_not_written(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry, config_dir: Path
) -> None:
    # Saved as a path, it would pin today's default, and hide where earlier releases recorded.
    default = config_dir / "local_doorbell" / "recordings"
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], _options(str(default))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert CONF_STORAGE_ROOT not in entry.options
    assert entry.options[CONF_RETENTION_MOTION_HOURS] == 12
    assert entry.runtime_data.clips.library.root == default
