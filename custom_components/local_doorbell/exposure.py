"""Keep the doorbell's camera, press and motion away from cloud voice assistants.

Exposing a camera to Alexa or Google Assistant streams it through the vendor's cloud, and
exposing the doorbell event or motion sends each press or movement there. New entities are
set not exposed; if the owner exposes one later, a repair issue explains what that means.
"""

from __future__ import annotations

from homeassistant.components.homeassistant.const import DATA_EXPOSED_ENTITIES
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
    async_get_entity_settings,
    async_listen_entity_updates,
    async_should_expose,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .issues import async_raise_issue
from .unique_ids import entity_id_of

CLOUD_ASSISTANTS = ("cloud.alexa", "cloud.google_assistant")
ISSUE_EXPOSED = "exposed_to_cloud"
# The entities whose exposure sends pictures or presence to a vendor: (platform, key).
SENSITIVE = (
    ("camera", "camera"),
    ("event", "doorbell"),
    ("binary_sensor", "motion"),
    ("binary_sensor", "person"),
)


def issue_id(entity_id: str) -> str:
    """Return the id of the repair issue about one exposed entity."""
    return f"{ISSUE_EXPOSED}_{entity_id}"


def _sensitive_entities(hass: HomeAssistant, serial: str) -> list[str]:
    found = (entity_id_of(hass, platform, serial, key) for platform, key in SENSITIVE)
    return [entity_id for entity_id in found if entity_id is not None]


@callback
def async_guard_exposure(hass: HomeAssistant, serial: str) -> CALLBACK_TYPE:
    """Un-expose entities nobody chose to expose yet; watch the owner's later choices."""
    if DATA_EXPOSED_ENTITIES not in hass.data:
        return lambda: None  # no voice assistant settings in this instance
    for entity_id in _sensitive_entities(hass, serial):
        settings = async_get_entity_settings(hass, entity_id)
        for assistant in CLOUD_ASSISTANTS:
            if "should_expose" not in settings.get(assistant, {}):
                async_expose_entity(hass, assistant, entity_id, False)

    @callback
    def check() -> None:
        for entity_id in _sensitive_entities(hass, serial):
            exposed = [a for a in CLOUD_ASSISTANTS if async_should_expose(hass, a, entity_id)]
            if exposed:
                async_raise_issue(
                    hass,
                    issue_id(entity_id),
                    ISSUE_EXPOSED,
                    {
                        "entity_id": entity_id,
                        "assistants": ", ".join(exposed),
                    },
                    fix_data={"entity_id": entity_id},
                )
            else:
                ir.async_delete_issue(hass, DOMAIN, issue_id(entity_id))

    check()
    unsubscribes = [async_listen_entity_updates(hass, a, check) for a in CLOUD_ASSISTANTS]

    @callback
    def stop() -> None:
        for unsubscribe in unsubscribes:
            unsubscribe()

    return stop


@callback
def async_unexpose(hass: HomeAssistant, entity_id: str) -> None:
    """Take an entity away from every cloud assistant."""
    for assistant in CLOUD_ASSISTANTS:
        async_expose_entity(hass, assistant, entity_id, False)
