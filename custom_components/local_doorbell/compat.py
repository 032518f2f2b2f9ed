"""What differs between the Home Assistant releases we support (2026.2 to 2026.10 and later)."""

from __future__ import annotations

try:
    # Home Assistant 2026.10 validates with probatio, a drop-in successor of voluptuous.
    import probatio as vol
except ImportError:  # pragma: no cover - Home Assistant before 2026.10
    import voluptuous as vol  # type: ignore[no-redef, unused-ignore]


try:
    # Home Assistant 2026.10 types repair flow results on their own.
    from homeassistant.components.repairs import (  # type: ignore[attr-defined, unused-ignore]
        RepairsFlowResult,
    )
except ImportError:  # pragma: no cover - Home Assistant before 2026.10
    from homeassistant.data_entry_flow import (  # type: ignore[assignment, unused-ignore]
        FlowResult as RepairsFlowResult,
    )

__all__ = ["RepairsFlowResult", "vol"]
