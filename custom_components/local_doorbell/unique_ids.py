"""The one place a doorbell's entities get their unique ids, and where their entity ids are found.

Below the entities, so that what guards or links them (clip permissions, the exposure check,
device triggers) finds them without importing the platforms' base.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .const import DOMAIN


def unique_id(serial: str, key: str) -> str:
    """Return the unique id of a doorbell's entity."""
    return f"{serial}_{key}"


def entity_id_of(hass: HomeAssistant, platform: str, serial: str, key: str) -> str | None:
    """Return the entity id of a doorbell's entity, if registered."""
    return er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id(serial, key))
