"""Repair flows: un-expose an entity from cloud voice assistants; re-check WebRTC's STUN server."""

from __future__ import annotations

from homeassistant.components.camera import get_camera_from_entity_id
from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir

from .compat import RepairsFlowResult, vol
from .const import DOMAIN
from .exposure import async_unexpose
from .stun import DEFAULT_STUN_HOST, ISSUE_DEFAULT_STUN, async_check_default_stun


class UnexposeFlow(ConfirmRepairFlow):
    """Confirm, then take the entity away from Alexa and Google Assistant."""

    def __init__(self, issue_id: str, entity_id: str) -> None:
        """Remember which entity to un-expose."""
        super().__init__()
        self._issue_id = issue_id
        self._entity_id = entity_id

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Un-expose on confirmation."""
        if user_input is not None:
            async_unexpose(self.hass, self._entity_id)
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)
        return await super().async_step_confirm(user_input)


class DefaultStunFlow(RepairsFlow):
    """Explain how to configure ICE servers, then check again what a browser would be given.

    Home Assistant reads ICE servers only from configuration.yaml, which an integration must
    not write: the owner edits it, and this flow confirms the change took effect.
    """

    def __init__(self, issue_id: str, entity_id: str, serial: str) -> None:
        """Remember which camera to check."""
        super().__init__()
        self._issue_id = issue_id
        self._entity_id = entity_id
        self._serial = serial

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        """Show the explanation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Check again on submission; finish once the public server is no longer handed out."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                camera = get_camera_from_entity_id(self.hass, self._entity_id)
            except HomeAssistantError:
                # The camera is gone (its doorbell was removed): nothing is handed out for it.
                ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)
                return self.async_create_entry(data={})
            if not await async_check_default_stun(self.hass, camera, self._serial):
                return self.async_create_entry(data={})
            errors["base"] = "still_default"
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            errors=errors,
            description_placeholders={"entity_id": self._entity_id, "server": DEFAULT_STUN_HOST},
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Return the flow that fixes an issue."""
    assert data is not None
    if issue_id.startswith(f"{ISSUE_DEFAULT_STUN}_"):
        return DefaultStunFlow(issue_id, str(data["entity_id"]), str(data["serial"]))
    return UnexposeFlow(issue_id, str(data["entity_id"]))
