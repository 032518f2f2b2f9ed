"""Issues on the owner's Repairs card, raised one way with the integration's defaults."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN


@callback
def async_raise_issue(
    hass: HomeAssistant,
    issue_id: str,
    key: str,
    placeholders: dict[str, str],
    *,
    severity: ir.IssueSeverity = ir.IssueSeverity.WARNING,
    persistent: bool = False,
    fix_data: dict[str, str | int | float | None] | None = None,
    learn_more_url: str | None = None,
) -> None:
    """Show the owner a translated issue, fixable by a repair flow when it has `fix_data`.

    `persistent`: a moment that passed, shown until dismissed rather than until it clears.
    """
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=fix_data is not None,
        is_persistent=persistent,
        severity=severity,
        translation_key=key,
        translation_placeholders=placeholders,
        data=fix_data,
        learn_more_url=learn_more_url,
    )
