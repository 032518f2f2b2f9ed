"""Config flow: add a doorbell on the local network, reauthenticate, reconfigure."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from pathlib import Path
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
)

from .compat import vol
from .const import (
    CONF_KEEP_CLOUD_OFF,
    CONF_MAX_CLIP_LENGTH,
    CONF_MAX_STORAGE_GB,
    CONF_MIN_FREE_GB,
    CONF_POST_ROLL,
    CONF_PRE_ROLL,
    CONF_RECORD_TRIGGERS,
    CONF_RETENTION_HOURS,
    CONF_STORAGE_ROOT,
    DEFAULT_KEEP_CLOUD_OFF,
    DEFAULT_PORT,
    DEFAULT_USERNAME,
    DOMAIN,
    RECORD_TRIGGERS,
)
from .devices.base import CannotConnect, DeviceInfo, InvalidAuth
from .devices.dahua import DahuaDoorbell
from .privacy.egress import EgressRefused, UnresolvableHost, check_host, local_only_session
from .recording.storage import StorageError, validate_root
from .settings import recording_settings

_LOGGER = logging.getLogger(__name__)


PORT = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))
USER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): str,
        vol.Required(CONF_PORT, default=DEFAULT_PORT): PORT,
        vol.Required(CONF_USERNAME, default=DEFAULT_USERNAME): str,
        vol.Required(CONF_PASSWORD): str,
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
                options=list(RECORD_TRIGGERS), multiple=True, translation_key="record_trigger"
            )
        ),
        vol.Required(CONF_PRE_ROLL): _seconds(0, 30),
        vol.Required(CONF_POST_ROLL): _seconds(1, 120),
        vol.Required(CONF_MAX_CLIP_LENGTH): _seconds(10, 600),
        vol.Required(CONF_RETENTION_HOURS): _amount(1, 8760, 1, "h"),
        vol.Required(CONF_MAX_STORAGE_GB): _amount(0, 100000, 0.5, "GiB"),
        vol.Required(CONF_MIN_FREE_GB): _amount(0.1, 1000, 0.1, "GiB"),
        vol.Required(CONF_KEEP_CLOUD_OFF): BooleanSelector(),
    }
)


class LocalDoorbellConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a doorbell by address and credentials."""

    VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> LocalDoorbellOptionsFlow:
        """Return the flow that sets recording and retention."""
        return LocalDoorbellOptionsFlow()

    async def _async_probe(self, data: Mapping[str, Any]) -> DeviceInfo | str:
        """Check the address is local, then ask the device who it is; return it or an error key."""
        host = str(data[CONF_HOST]).strip()
        try:
            # Refuse a public address before a single packet goes to it.
            await check_host(host, int(data[CONF_PORT]))
        except EgressRefused:
            return "not_local"
        except UnresolvableHost:
            return "cannot_connect"
        # The probe's own connections are checked again, at the moment they are made.
        refused: list[EgressRefused] = []
        async with local_only_session(refused.append) as session:
            device = DahuaDoorbell(
                session, host, int(data[CONF_PORT]), data[CONF_USERNAME], data[CONF_PASSWORD]
            )
            try:
                return await device.probe()
            except InvalidAuth:
                return "invalid_auth"
            except CannotConnect:
                return "not_local" if refused else "cannot_connect"

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the doorbell's address and credentials."""
        errors: dict[str, str] = {}
        if user_input is not None:
            info = await self._async_probe(user_input)
            if isinstance(info, str):
                errors["base"] = info
            else:
                await self.async_set_unique_id(info.serial)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=f"{info.manufacturer} {info.model}", data=user_input
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input or {}),
            errors=errors,
        )

    async def _async_update_same_device(
        self, entry: ConfigEntry, user_input: dict[str, Any], errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Probe with changed data; update and reload if the same doorbell answers."""
        data = {**entry.data, **user_input}
        info = await self._async_probe(data)
        if isinstance(info, str):
            errors["base"] = info
            return None
        await self.async_set_unique_id(info.serial)
        self._abort_if_unique_id_mismatch(reason="wrong_device")
        return self.async_update_reload_and_abort(entry, data=data)

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
        """Change the address of the same doorbell."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None and (
            done := await self._async_update_same_device(entry, user_input, errors)
        ):
            return done
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST, default=entry.data[CONF_HOST]): str,
                vol.Required(CONF_PORT, default=entry.data[CONF_PORT]): PORT,
            }
        )
        return self.async_show_form(step_id="reconfigure", data_schema=schema, errors=errors)


class LocalDoorbellOptionsFlow(OptionsFlowWithReload):
    """Recording and retention: what to record, where, and for how long."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options; check the storage folder before saving."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input[CONF_POST_ROLL] > user_input[CONF_MAX_CLIP_LENGTH]:
                errors[CONF_POST_ROLL] = "post_roll_too_long"
            else:
                try:
                    root = await self.hass.async_add_executor_job(
                        _validate, Path(user_input[CONF_STORAGE_ROOT]), self.hass.config.config_dir
                    )
                except StorageError as err:
                    errors[CONF_STORAGE_ROOT] = err.key
                else:
                    return self.async_create_entry(
                        data={**user_input, CONF_STORAGE_ROOT: str(root)}
                    )
        current = {
            **recording_settings(self.hass, self.config_entry.options).as_options(),
            CONF_KEEP_CLOUD_OFF: self.config_entry.options.get(
                CONF_KEEP_CLOUD_OFF, DEFAULT_KEEP_CLOUD_OFF
            ),
        }
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(OPTIONS_SCHEMA, user_input or current),
            errors=errors,
        )


def _validate(root: Path, config_dir: str) -> Path:
    """Check a storage root (file-system work: run in the executor)."""
    return validate_root(root, config_dir=Path(config_dir))
