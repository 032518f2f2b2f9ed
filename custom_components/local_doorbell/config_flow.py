"""Config flow: add a doorbell on the local network, reauthenticate, reconfigure."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from pathlib import Path
from typing import Any
import uuid

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo

from .compat import vol
from .connection import async_check_hosts, entry_device, entry_protocol
from .const import (
    CONF_BUTTON_ENTITY,
    CONF_KEEP_CLOUD_OFF,
    CONF_MAX_CLIP_LENGTH,
    CONF_MAX_STORAGE_GB,
    CONF_MIN_FREE_GB,
    CONF_MOTION_ENTITY,
    CONF_POST_ROLL,
    CONF_PRE_ROLL,
    CONF_PROTOCOL,
    CONF_RECORD_TRIGGERS,
    CONF_RTSP_PORT,
    CONF_SNAPSHOT_URL,
    CONF_STORAGE_ROOT,
    CONF_STREAM_URL,
    CONF_WARM_ON_MOTION,
    CONF_WARM_SECONDS,
    DEFAULT_PORT,
    DEFAULT_USERNAME,
    DOMAIN,
)
from .devices.base import CannotConnect, DeviceIdentity, InvalidAuth, host_and_port
from .devices.detect import DeviceApi, detect
from .devices.generic import SNAPSHOT_SCHEMES
from .devices.rtsp_relay import STREAM_SCHEMES
from .errors import error_key
from .generic_tracking import BUTTON_DOMAINS, MOTION_DOMAINS
from .options import RECORD_TRIGGERS, RETENTION_KEYS, DoorbellOptions, default_storage_root
from .privacy.egress import EgressRefused, UnresolvableHost, local_only_session
from .recording.archive.storage import StorageError
from .storage_root import async_check_root

_LOGGER = logging.getLogger(__name__)


PORT = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))
NETWORK_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): str,
        vol.Required(CONF_PORT, default=DEFAULT_PORT): PORT,
        vol.Required(CONF_USERNAME, default=DEFAULT_USERNAME): str,
        vol.Required(CONF_PASSWORD): str,
        vol.Optional(CONF_RTSP_PORT): PORT,
    }
)
GENERIC_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): str,
        vol.Required(CONF_STREAM_URL): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
        vol.Optional(CONF_SNAPSHOT_URL): TextSelector(
            TextSelectorConfig(type=TextSelectorType.URL)
        ),
        vol.Required(CONF_BUTTON_ENTITY): EntitySelector(
            EntitySelectorConfig(domain=list(BUTTON_DOMAINS))
        ),
        vol.Optional(CONF_MOTION_ENTITY): EntitySelector(
            EntitySelectorConfig(domain=list(MOTION_DOMAINS))
        ),
    }
)


def _seconds(low: float, high: float) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=low, max=high, step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX
        )
    )


def _amount(low: float, high: float, step: float, unit: str) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=low, max=high, step=step, unit_of_measurement=unit, mode=NumberSelectorMode.BOX
        )
    )


OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_STORAGE_ROOT): TextSelector(),
        vol.Required(CONF_RECORD_TRIGGERS): SelectSelector(
            SelectSelectorConfig(
                options=[kind.value for kind in RECORD_TRIGGERS],
                multiple=True,
                translation_key="record_trigger",
            )
        ),
        vol.Required(CONF_PRE_ROLL): _seconds(0, 30),
        vol.Required(CONF_POST_ROLL): _seconds(1, 120),
        vol.Required(CONF_MAX_CLIP_LENGTH): _seconds(10, 600),
        # From an hour to a year, for the clips of each trigger.
        **{
            vol.Required(RETENTION_KEYS[kind]): _amount(1, 8760, 1, "h") for kind in RECORD_TRIGGERS
        },
        vol.Required(CONF_MAX_STORAGE_GB): _amount(0, 100000, 0.5, "GiB"),
        vol.Required(CONF_MIN_FREE_GB): _amount(0.1, 1000, 0.1, "GiB"),
        vol.Required(CONF_KEEP_CLOUD_OFF): BooleanSelector(),
        vol.Required(CONF_WARM_SECONDS): _seconds(0, 600),
        vol.Required(CONF_WARM_ON_MOTION): BooleanSelector(),
    }
)


class LocalDoorbellConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a doorbell by address and credentials, or a camera with a separate button."""

    VERSION = 1
    MINOR_VERSION = 3
    _discovered_host: str | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> LocalDoorbellOptionsFlow:
        """Return the flow that sets recording and retention."""
        return LocalDoorbellOptionsFlow()

    async def _async_probe(
        self, data: Mapping[str, Any], serial: str
    ) -> tuple[dict[str, Any], DeviceIdentity] | str:
        """Check every address is local, then ask the device who it is.

        Return the entry data (with the protocol that answered) and the device, or an error key.
        """
        try:
            # Refuse a public address before a single packet goes to it.
            await async_check_hosts(data)
        except (EgressRefused, UnresolvableHost) as err:
            return error_key(err)
        # The probe's own connections are checked again, at the moment they are made.
        refused: list[EgressRefused] = []
        async with local_only_session(refused.append) as session:
            try:
                if CONF_PROTOCOL in data:
                    found = dict(data)
                    device = entry_device(session, found, serial)
                    info = await device.probe()
                else:
                    protocol, info = await detect(
                        session,
                        data[CONF_HOST],
                        data[CONF_PORT],
                        data[CONF_USERNAME],
                        data[CONF_PASSWORD],
                        rtsp_port=data.get(CONF_RTSP_PORT),
                    )
                    found = {**data, CONF_PROTOCOL: protocol}
                    device = entry_device(session, found, info.serial)
                # What the recorder will open: a stream that is not RTSP is refused now.
                await device.stream_urls()
            except (InvalidAuth, CannotConnect) as err:
                key = error_key(err)
                # A connection the session refused fails the probe as one it could not make.
                return error_key(refused[0]) if refused and key == "cannot_connect" else key
        return found, info

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask how the doorbell is reached."""
        return self.async_show_menu(step_id="user", menu_options=["network", "generic"])

    async def async_step_dhcp(self, discovery_info: DhcpServiceInfo) -> ConfigFlowResult:
        """Offer a doorbell whose maker's address showed up on the network; the owner confirms.

        A doorbell already set up that got a new address is updated instead.
        """
        self._async_abort_entries_match({CONF_HOST: discovery_info.ip})
        mac = dr.format_mac(discovery_info.macaddress)
        device = dr.async_get(self.hass).async_get_device(
            connections={(dr.CONNECTION_NETWORK_MAC, mac)}
        )
        for entry in self._async_current_entries(include_ignore=False):
            if device is not None and entry.entry_id in device.config_entries:
                self.hass.config_entries.async_update_entry(
                    entry, data={**entry.data, CONF_HOST: discovery_info.ip}
                )
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
                return self.async_abort(reason="already_configured")
        self._discovered_host = discovery_info.ip
        self.context["title_placeholders"] = {"host": discovery_info.ip}
        return await self.async_step_network()

    async def async_step_network(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the doorbell's address and credentials, and find out what it speaks."""
        errors: dict[str, str] = {}
        if user_input is None and self._discovered_host:
            user_input = {CONF_HOST: self._discovered_host}
        elif user_input is not None:
            user_input[CONF_HOST] = user_input[CONF_HOST].strip()
            found = await self._async_probe(user_input, "")
            if isinstance(found, str):
                errors["base"] = found
            else:
                data, info = found
                await self.async_set_unique_id(info.serial)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(title=_title(info), data=data)
        return self.async_show_form(
            step_id="network",
            data_schema=self.add_suggested_values_to_schema(NETWORK_SCHEMA, user_input or {}),
            errors=errors,
        )

    async def async_step_generic(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a camera's stream and the entity that is its button."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**user_input, CONF_PROTOCOL: DeviceApi.GENERIC}
            self._async_abort_entries_match({CONF_STREAM_URL: data[CONF_STREAM_URL]})
            serial = uuid.uuid4().hex[:12].upper()
            if (found := await self._async_probe_generic(data, serial, errors)) is not None:
                await self.async_set_unique_id(serial)
                return self.async_create_entry(title=data[CONF_NAME], data=found)
        return self.async_show_form(
            step_id="generic",
            data_schema=self.add_suggested_values_to_schema(GENERIC_SCHEMA, user_input or {}),
            errors=errors,
        )

    async def _async_probe_generic(
        self, data: dict[str, Any], serial: str, errors: dict[str, str]
    ) -> dict[str, Any] | None:
        """Check a camera's URLs and probe its stream; fill `errors` when that fails."""
        for key, schemes in (
            (CONF_STREAM_URL, STREAM_SCHEMES),
            (CONF_SNAPSHOT_URL, SNAPSHOT_SCHEMES),
        ):
            if data.get(key) and not _url_fits(data[key], schemes):
                errors[key] = "invalid_url"
        if errors:
            return None
        found = await self._async_probe(data, serial)
        if isinstance(found, str):
            errors["base"] = found
            return None
        return found[0]

    async def _async_update_same_device(
        self, entry: ConfigEntry, user_input: dict[str, Any], errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Probe with changed data; update and reload if the same doorbell answers."""
        assert entry.unique_id is not None
        if entry_protocol(entry.data) is DeviceApi.GENERIC:
            # The form holds all of it; optional fields left empty are gone.
            data = {**user_input, CONF_PROTOCOL: DeviceApi.GENERIC}
            # The camera has no serial number of its own: the entry keeps the one it was given.
            if (checked := await self._async_probe_generic(data, entry.unique_id, errors)) is None:
                return None
            return self.async_update_reload_and_abort(entry, data=checked)
        data = {**entry.data, **user_input}
        found = await self._async_probe(data, entry.unique_id)
        if isinstance(found, str):
            errors["base"] = found
            return None
        await self.async_set_unique_id(found[1].serial)
        self._abort_if_unique_id_mismatch(reason="wrong_device")
        return self.async_update_reload_and_abort(entry, data=found[0])

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start reauthentication when the device refuses the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for new credentials."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None and (
            done := await self._async_update_same_device(entry, user_input, errors)
        ):
            return done
        schema = vol.Schema(
            {
                vol.Required(CONF_USERNAME, default=entry.data[CONF_USERNAME]): str,
                vol.Required(CONF_PASSWORD): str,
            }
        )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=schema,
            errors=errors,
            description_placeholders={"host": entry.data[CONF_HOST]},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the address of the same doorbell, or a camera's URLs and entities."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None and (
            done := await self._async_update_same_device(entry, user_input, errors)
        ):
            return done
        if entry_protocol(entry.data) is DeviceApi.GENERIC:
            return self.async_show_form(
                step_id="reconfigure_generic",
                data_schema=self.add_suggested_values_to_schema(
                    GENERIC_SCHEMA, user_input or entry.data
                ),
                errors=errors,
            )
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST, default=entry.data[CONF_HOST]): str,
                vol.Required(CONF_PORT, default=entry.data[CONF_PORT]): PORT,
            }
        )
        return self.async_show_form(step_id="reconfigure", data_schema=schema, errors=errors)

    async def async_step_reconfigure_generic(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take the camera's changed URLs and entities."""
        return await self.async_step_reconfigure(user_input)


class LocalDoorbellOptionsFlow(OptionsFlowWithReload):
    """Recording, retention and live view: what to record, where, for how long; warm-up."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options; check the storage folder before saving."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input[CONF_POST_ROLL] > user_input[CONF_MAX_CLIP_LENGTH]:
                errors[CONF_POST_ROLL] = "post_roll_too_long"
            else:
                try:
                    root = await async_check_root(self.hass, Path(user_input[CONF_STORAGE_ROOT]))
                except StorageError as err:
                    errors[CONF_STORAGE_ROOT] = err.key
                else:
                    return self.async_create_entry(data=await self._async_options(user_input, root))
        current = DoorbellOptions.from_options(self.hass, self.config_entry.options).as_options()
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(OPTIONS_SCHEMA, user_input or current),
            errors=errors,
        )

    async def _async_options(self, user_input: dict[str, Any], root: Path) -> dict[str, Any]:
        """Return the options to save; the default folder is not written, but followed."""
        default = await self.hass.async_add_executor_job(default_storage_root(self.hass).resolve)
        if root == default:
            return {key: value for key, value in user_input.items() if key != CONF_STORAGE_ROOT}
        return {**user_input, CONF_STORAGE_ROOT: str(root)}


def _title(info: DeviceIdentity) -> str:
    """Return the entry's title: the maker and the model."""
    return f"{info.manufacturer} {info.model}"


def _url_fits(url: str, schemes: tuple[str, ...]) -> bool:
    """Tell whether a URL has one of these schemes and a host."""
    try:
        host_and_port(url)
    except ValueError:
        return False
    return url.partition(":")[0].lower() in schemes
