"""Constants of the Local Doorbell integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "local_doorbell"
DEFAULT_PORT: Final = 80
DEFAULT_USERNAME: Final = "admin"
EVENT_RING: Final = "ring"
