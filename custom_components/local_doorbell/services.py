"""Actions on recorded clips: protect, unprotect, delete."""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .clips import async_find_clip, signal_clips_changed
from .compat import vol
from .const import DOMAIN
from .privacy.audit import AuditAction
from .privacy.export import EXPORT_SCHEMA, SERVICE_EXPORT_CLIP, async_audit, async_export_clip
from .recording.library import Clip, Library

_LOGGER = logging.getLogger(__name__)

ATTR_CLIP_ID = "clip_id"
SERVICE_PROTECT_CLIP = "protect_clip"
SERVICE_UNPROTECT_CLIP = "unprotect_clip"
SERVICE_DELETE_CLIP = "delete_clip"
CLIP_SCHEMA = vol.Schema({vol.Required(ATTR_CLIP_ID): cv.string})


async def _async_find(hass: HomeAssistant, clip_id: str) -> tuple[Library, Clip]:
    """Return a clip and its library; raise a translated error when no library has it."""
    if (found := await async_find_clip(hass, clip_id)) is not None:
        return found
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_clip",
        translation_placeholders={"clip_id": clip_id},
    )


async def _async_protect(call: ServiceCall) -> None:
    clip_id: str = call.data[ATTR_CLIP_ID]
    library, clip = await _async_find(call.hass, clip_id)
    protected = call.service == SERVICE_PROTECT_CLIP
    await call.hass.async_add_executor_job(library.set_protected, clip_id, protected)
    action = AuditAction.PROTECT if protected else AuditAction.UNPROTECT
    await async_audit(call.hass, library.root, action, clip_id, call.context.user_id)
    # The owner's decision about a recording is logged.
    _LOGGER.info(
        "Clip %s %s by user %s",
        clip_id,
        "protected" if protected else "unprotected",
        call.context.user_id,
    )
    async_dispatcher_send(call.hass, signal_clips_changed(clip.device))


async def _async_delete(call: ServiceCall) -> None:
    clip_id: str = call.data[ATTR_CLIP_ID]
    library, clip = await _async_find(call.hass, clip_id)
    if clip.protected:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="clip_protected",
            translation_placeholders={"clip_id": clip_id},
        )
    await call.hass.async_add_executor_job(library.delete, clip_id)
    await async_audit(call.hass, library.root, AuditAction.DELETE, clip_id, call.context.user_id)
    _LOGGER.info("Clip %s deleted by user %s", clip_id, call.context.user_id)
    async_dispatcher_send(call.hass, signal_clips_changed(clip.device))


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the clip actions."""
    for service in (SERVICE_PROTECT_CLIP, SERVICE_UNPROTECT_CLIP):
        hass.services.async_register(DOMAIN, service, _async_protect, schema=CLIP_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_DELETE_CLIP, _async_delete, schema=CLIP_SCHEMA)
    hass.services.async_register(
        DOMAIN, SERVICE_EXPORT_CLIP, async_export_clip, schema=EXPORT_SCHEMA
    )
