"""The config flow against the virtual doorbell: setup, every error, reauth and reconfigure."""

from __future__ import annotations

import socket

from homeassistant.config_entries import SOURCE_DHCP, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.local_doorbell.const import CONF_PROTOCOL, DOMAIN
from virtual_doorbell import VirtualDoorbell

from ..conftest import PASSWORD, TEST_VIDEO
from .conftest import entry_data, start_flow, wait_for


@pytest.mark.parametrize("doorbell_model", ["AD110", "AD410", "VTO"])
async def test_user_flow_creates_entry(
    hass: HomeAssistant, doorbell: VirtualDoorbell, doorbell_model: str
) -> None:
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, entry_data(doorbell))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == doorbell.state.serial
    assert result["data"] == {**entry_data(doorbell), CONF_PROTOCOL: "dahua"}
    manufacturer = "Dahua" if doorbell_model == "VTO" else "Amcrest"
    assert result["title"] == f"{manufacturer} {doorbell.state.model.device_type}"
    await hass.async_block_till_done()


async def test_user_flow_invalid_auth_then_recovers(
    hass: HomeAssistant, doorbell: VirtualDoorbell
) -> None:
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, entry_data(doorbell, password="wrong")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(flow_id, entry_data(doorbell))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_user_flow_cannot_connect(hass: HomeAssistant, socket_enabled: None) -> None:
    # A port nothing listens on: bind one, then close it.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {CONF_HOST: "127.0.0.1", CONF_PORT: port, CONF_USERNAME: "admin", CONF_PASSWORD: "x"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}


@pytest.mark.usefixtures("no_such_name")
async def test_user_flow_unresolvable_name(hass: HomeAssistant) -> None:
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {CONF_HOST: "no-such-doorbell.invalid", CONF_USERNAME: "admin", CONF_PASSWORD: "x"},
    )
    assert result["errors"] == {"base": "cannot_connect"}


@pytest.mark.parametrize("host", ["93.184.216.34", "8.8.8.8", "2001:4860:4860::8888", "100.64.0.1"])
async def test_user_flow_refuses_public_address_before_any_socket(
    hass: HomeAssistant, host: str
) -> None:
    # No `socket_enabled` here: creating any socket would raise, so reaching the form's
    # `not_local` error proves the address was refused before anything was sent.
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: host, CONF_USERNAME: "admin", CONF_PASSWORD: "x"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "not_local"}


async def test_user_flow_already_configured(hass: HomeAssistant, doorbell: VirtualDoorbell) -> None:
    MockConfigEntry(
        domain=DOMAIN, unique_id=doorbell.state.serial, data=entry_data(doorbell)
    ).add_to_hass(hass)
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, entry_data(doorbell))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth_flow(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "admin", CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    doorbell.auth.password = "new-password"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "admin", CONF_PASSWORD: "new-password"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_PASSWORD] == "new-password"
    await hass.async_block_till_done()


async def test_reconfigure_flow(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry
) -> None:
    # The same doorbell (same serial) now answers on another port.
    moved = VirtualDoorbell(password=PASSWORD, serial=doorbell.state.serial, video=TEST_VIDEO)
    await moved.start()
    try:
        result = await entry.start_reconfigure_flow(hass)
        assert result["step_id"] == "reconfigure"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: moved.http_port}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert entry.data[CONF_PORT] == moved.http_port
        await hass.async_block_till_done()
        await wait_for(lambda: moved.state.counters.event_clients == 1)
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await moved.stop()


async def test_reconfigure_to_another_doorbell_is_refused(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    other_doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
) -> None:
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: 1}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: other_doorbell.http_port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data[CONF_PORT] == doorbell.http_port


async def test_a_doorbell_found_by_dhcp_is_confirmed_by_the_owner(
    hass: HomeAssistant, doorbell: VirtualDoorbell
) -> None:
    discovery = DhcpServiceInfo(ip=doorbell.host, hostname="doorbird", macaddress="1ccae3001122")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=discovery
    )
    # Nothing is added before the owner enters the doorbell's account.
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "network"
    schema = result["data_schema"]
    assert schema is not None
    host = next(key for key in schema.schema if key == CONF_HOST)
    assert host.description == {"suggested_value": doorbell.host}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], entry_data(doorbell))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # Seen again, the same address is not offered twice.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=discovery
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_dhcp_updates_the_address_of_a_known_doorbell(
    hass: HomeAssistant, doorbell: VirtualDoorbell
) -> None:
    serial = doorbell.state.serial
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=serial,
        data={**entry_data(doorbell), CONF_HOST: "192.168.1.40", CONF_PROTOCOL: "dahua"},
        minor_version=2,
    )
    entry.add_to_hass(hass)
    mac = doorbell.state.mac.lower()
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, serial)},
        connections={(dr.CONNECTION_NETWORK_MAC, mac)},
    )
    discovery = DhcpServiceInfo(
        ip=doorbell.host, hostname="amcrest", macaddress=mac.replace(":", "")
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=discovery
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == doorbell.host
    # Reloaded at the new address, the doorbell is reached.
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
