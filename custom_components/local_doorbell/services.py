"""Actions on recorded clips: protect, unprotect, delete.

Protecting is open to whoever may see the doorbell's camera; unprotecting and deleting are for
administrators. Each is written to the audit log and the logbook with who did it. Automations
and scripts that Home Assistant runs by itself carry no user: an administrator wrote them. One
that acts for someone (the notification blueprint's "Keep this clip", tapped on a phone) names
them in `requested_by`, and is held to that user's rights and audited under their name.
"""

from __future__ import annotations

from homeassistant.auth.models import User
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import config_validation as cv

from .clips import async_audit, async_find_clip, may_see_clips
from .compat import vol
from .const import DOMAIN
from .export import EXPORT_SCHEMA, SERVICE_EXPORT_CLIP, async_export_clip
from .privacy.audit import AuditAction
from .recording.archive.library import Clip, Library

ATTR_CLIP_ID = "clip_id"
ATTR_REQUESTED_BY = "requested_by"
SERVICE_PROTECT_CLIP = "protect_clip"
SERVICE_UNPROTECT_CLIP = "unprotect_clip"
SERVICE_DELETE_CLIP = "delete_clip"
CLIP_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CLIP_ID): cv.string,
        vol.Optional(ATTR_REQUESTED_BY): vol.Any(None, cv.string),
    }
)


async def _async_find(hass: HomeAssistant, clip_id: str) -> tuple[Library, Clip]:
    """Return a clip and its library; raise a translated error when no library has it."""
    if (found := await async_find_clip(hass, clip_id)) is not None:
        return found
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_clip",
        translation_placeholders={"clip_id": clip_id},
    )


def _refused(call: ServiceCall, key: str) -> Unauthorized:
    """Return the translated refusal of an action the calling user may not take."""
    error = Unauthorized(context=call.context)
    # Unauthorized takes no translation arguments; the frontend and the logs read these.
    error.translation_domain = DOMAIN
    error.translation_key = key
    error.translation_placeholders = {"clip_id": call.data[ATTR_CLIP_ID]}
    return error


async def _async_caller(call: ServiceCall) -> User | None:
    """Return the user the action is for, None for Home Assistant itself; refuse an unknown one.

    That is the calling user, or the one named in `requested_by`: only Home Assistant itself
    (automations, which an administrator wrote) and administrators may act for someone else.
    """
    caller = await _async_user(call, call.context.user_id)
    requested_by = call.data.get(ATTR_REQUESTED_BY)
    if requested_by is None or requested_by == call.context.user_id:
        return caller
    if caller is not None and not caller.is_admin:
        raise _refused(call, "clip_action_not_allowed")
    return await _async_user(call, requested_by)


async def _async_user(call: ServiceCall, user_id: str | None) -> User | None:
    """Return a user by id (None for none); refuse an id that names nobody."""
    if user_id is None:
        return None
    if (user := await call.hass.auth.async_get_user(user_id)) is None:
        raise _refused(call, "clip_action_not_allowed")
    return user


async def _async_admin(call: ServiceCall) -> User | None:
    """Return the calling user if an administrator (None for Home Assistant), else refuse."""
    user = await _async_caller(call)
    if user is not None and not user.is_admin:
        raise _refused(call, "clip_action_admin_only")
    return user


async def _async_protect(call: ServiceCall) -> None:
    user = await _async_caller(call)
    library, clip = await _async_find(call.hass, call.data[ATTR_CLIP_ID])
    if user is not None and not may_see_clips(call.hass, user, clip.device):
        raise _refused(call, "clip_action_not_allowed")
    await _async_set_protected(call, library, clip, user, protected=True)


async def _async_unprotect(call: ServiceCall) -> None:
    user = await _async_admin(call)
    library, clip = await _async_find(call.hass, call.data[ATTR_CLIP_ID])
    await _async_set_protected(call, library, clip, user, protected=False)


async def _async_set_protected(
    call: ServiceCall, library: Library, clip: Clip, user: User | None, *, protected: bool
) -> None:
    await call.hass.async_add_executor_job(library.set_protected, clip.id, protected)
    action = AuditAction.PROTECT if protected else AuditAction.UNPROTECT
    await async_audit(call, library.root, action, clip, user)


async def _async_delete(call: ServiceCall) -> None:
    user = await _async_admin(call)
    library, clip = await _async_find(call.hass, call.data[ATTR_CLIP_ID])
    if clip.protected:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="clip_protected",
            translation_placeholders={"clip_id": clip.id},
        )
    await call.hass.async_add_executor_job(library.delete, clip.id)
    await async_audit(call, library.root, AuditAction.DELETE, clip, user)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the clip actions."""
    hass.services.async_register(DOMAIN, SERVICE_PROTECT_CLIP, _async_protect, schema=CLIP_SCHEMA)
    hass.services.async_register(
        DOMAIN, SERVICE_UNPROTECT_CLIP, _async_unprotect, schema=CLIP_SCHEMA
    )
    hass.services.async_register(DOMAIN, SERVICE_DELETE_CLIP, _async_delete, schema=CLIP_SCHEMA)
    hass.services.async_register(
        DOMAIN, SERVICE_EXPORT_CLIP, async_export_clip, schema=EXPORT_SCHEMA
    )
