"""Fixtures for tests that run the integration inside Home Assistant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
import socket
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.local_doorbell.const import (
    CONF_MAX_CLIP_LENGTH,
    CONF_POST_ROLL,
    CONF_PRE_ROLL,
    DOMAIN,
)
from virtual_doorbell import VirtualDoorbell

# Short clips keep the recording tests quick; the defaults are tested in the options flow.
FAST_RECORDING = {CONF_PRE_ROLL: 1, CONF_POST_ROLL: 1, CONF_MAX_CLIP_LENGTH: 30}

type AddEntry = Callable[..., Awaitable[MockConfigEntry]]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load our integration."""


@pytest.fixture(autouse=True)
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Give Home Assistant a configuration folder of its own: the default recordings go there."""
    config = tmp_path / "config"
    config.mkdir()
    hass.config.config_dir = str(config)
    return config


@pytest.fixture(autouse=True)
def media_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Give Home Assistant a media folder of its own, apart from its configuration folder."""
    media = tmp_path / "media"
    media.mkdir()
    hass.config.media_dirs = {"local": str(media)}
    return media


def entry_data(doorbell: VirtualDoorbell, password: str | None = None) -> dict[str, object]:
    """Return config-entry data that points at a virtual doorbell."""
    return {
        CONF_HOST: doorbell.host,
        CONF_PORT: doorbell.http_port,
        CONF_USERNAME: doorbell.username,
        CONF_PASSWORD: password or doorbell.password,
    }


def mock_entry(hass: HomeAssistant, doorbell: VirtualDoorbell, **fields: Any) -> MockConfigEntry:
    """Add a config entry for the virtual doorbell, recording short clips; not set up yet."""
    fields = {"data": entry_data(doorbell), "options": FAST_RECORDING, **fields}
    config_entry = MockConfigEntry(domain=DOMAIN, unique_id=doorbell.state.serial, **fields)
    config_entry.add_to_hass(hass)
    return config_entry


async def set_up_entry(
    hass: HomeAssistant, doorbell: VirtualDoorbell, **fields: Any
) -> MockConfigEntry:
    """Add a config entry for the virtual doorbell, set it up and wait for its event stream."""
    config_entry = mock_entry(hass, doorbell, **fields)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await wait_for(lambda: doorbell.state.counters.event_clients == 1)
    return config_entry


@pytest.fixture
async def entry(hass: HomeAssistant, doorbell: VirtualDoorbell) -> MockConfigEntry:
    """Set up a config entry for the virtual doorbell and wait for its event stream."""
    return await set_up_entry(hass, doorbell, title=f"Amcrest {doorbell.state.model.name}")


@pytest.fixture
async def add_entry(hass: HomeAssistant, doorbell: VirtualDoorbell) -> AsyncIterator[AddEntry]:
    """Return a function that sets up a doorbell (this one by default) with these options.

    The entries still loaded at the end are unloaded, which stops what they started (a
    warmed stream among it) before Home Assistant stops.
    """
    added: list[MockConfigEntry] = []

    async def add(
        options: dict[str, Any] | None = None, target: VirtualDoorbell = doorbell
    ) -> MockConfigEntry:
        added.append(
            await set_up_entry(hass, target, options={**FAST_RECORDING, **(options or {})})
        )
        return added[-1]

    yield add
    for config_entry in added:
        if config_entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(config_entry.entry_id)


@pytest.fixture
async def media(hass: HomeAssistant) -> None:
    """Set up the media sources: ours, and Home Assistant's local one (My media)."""
    assert await async_setup_component(hass, "media_source", {})


@pytest.fixture
async def clip_id(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry, media: None
) -> str:
    """Record a clip and return its id."""
    # Imported here: the helper reads this module's own helpers.
    from tests.helpers.clips import record_one

    return (await record_one(hass, doorbell)).rsplit(":", 1)[1]


@pytest.fixture
def no_such_name(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> None:
    """Answer every name as a resolver does for one that does not exist (the harness has no DNS)."""

    async def getaddrinfo(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(hass.loop, "getaddrinfo", getaddrinfo)


async def start_flow(hass: HomeAssistant, path: str = "network") -> str:
    """Open the config flow and take the menu's `path`; return the flow's id."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert result["menu_options"] == ["network", "generic"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": path}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == path
    assert result["errors"] == {}
    return str(result["flow_id"])


async def wait_for(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until `predicate()` holds, failing the test after `within` seconds."""
    async with asyncio.timeout(within):
        while not predicate():
            await asyncio.sleep(0.01)


def device_entry(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    """Return the device registry entry of a config entry's doorbell."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1, f"expected one device, found {devices}"
    assert devices[0].identifiers == {(DOMAIN, entry.unique_id)}
    return devices[0]


def entity_id(hass: HomeAssistant, platform: str, serial: str, key: str) -> str:
    """Return the entity id of one of a doorbell's entities, by its unique id."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{serial}_{key}")
    assert found is not None, f"no {platform} entity {key} for {serial}"
    return found


def current(hass: HomeAssistant, entity: str) -> State:
    """Return an entity's state, which must exist."""
    found = hass.states.get(entity)
    assert found is not None, f"{entity} has no state"
    return found
