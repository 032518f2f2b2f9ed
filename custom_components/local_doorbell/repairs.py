"""Repair flows: un-expose an entity the owner exposed to a cloud voice assistant."""

from __future__ import annotations

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .compat import RepairsFlowResult
from .const import DOMAIN
from .exposure import async_unexpose


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


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Return the flow that fixes an issue."""
    assert data is not None
    return UnexposeFlow(issue_id, str(data["entity_id"]))
