"""What differs between the Home Assistant releases we support (2026.2 to 2026.10 and later)."""

from __future__ import annotations

try:
    # Home Assistant 2026.10 validates with probatio, a drop-in successor of voluptuous.
    import probatio as vol
except ImportError:  # pragma: no cover - Home Assistant before 2026.10
    import voluptuous as vol  # type: ignore[no-redef, unused-ignore]

__all__ = ["vol"]
