"""Who may protect, unprotect and delete clips, and the audit of what they did."""

from __future__ import annotations

from homeassistant.components.logbook import EVENT_LOGBOOK_ENTRY
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
)

from custom_components.local_doorbell.const import DOMAIN
from custom_components.local_doorbell.privacy.audit import AuditAction, AuditLog
from custom_components.local_doorbell.recording.archive.library import Library, UnknownClip
from virtual_doorbell import VirtualDoorbell

from .conftest import current, entity_id, wait_for


@pytest.fixture
def stranger(hass: HomeAssistant) -> MockUser:
    """Return a user whose policy lets them see the kitchen light, not the doorbell."""
    user = MockUser(name="Stranger").add_to_hass(hass)
    user.mock_policy({"entities": {"entity_ids": {"light.kitchen": True}}})
    return user


async def _call(hass: HomeAssistant, action: str, clip: str, user_id: str | None) -> None:
    await hass.services.async_call(
        DOMAIN, action, {"clip_id": clip}, blocking=True, context=Context(user_id=user_id)
    )


async def _refused(hass: HomeAssistant, action: str, clip: str, user_id: str | None) -> str | None:
    """Call, expecting a refusal; return its translation key."""
    with pytest.raises(Unauthorized) as err:
        await _call(hass, action, clip, user_id)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_placeholders == {"clip_id": clip}
    return err.value.translation_key


async def test_who_may_protect_unprotect_and_delete(
    hass: HomeAssistant,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
    stranger: MockUser,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    clip_id: str,
) -> None:
    library: Library = entry.runtime_data.clips.library
    logbook = async_capture_events(hass, EVENT_LOGBOOK_ENTRY)

    # Protecting keeps evidence: anyone who may see the camera, nobody else.
    assert await _refused(hass, "protect_clip", clip_id, stranger.id) == "clip_action_not_allowed"
    assert not (await hass.async_add_executor_job(library.get, clip_id)).protected
    await _call(hass, "protect_clip", clip_id, hass_read_only_user.id)
    assert (await hass.async_add_executor_job(library.get, clip_id)).protected

    # Unprotecting and deleting are for administrators.
    for user in (hass_read_only_user, stranger):
        for action in ("unprotect_clip", "delete_clip"):
            assert await _refused(hass, action, clip_id, user.id) == "clip_action_admin_only"
    # A user id that names nobody is refused too.
    for action in ("protect_clip", "unprotect_clip"):
        assert await _refused(hass, action, clip_id, "no-such-user") == "clip_action_not_allowed"
    assert (await hass.async_add_executor_job(library.get, clip_id)).protected

    await _call(hass, "unprotect_clip", clip_id, hass_admin_user.id)
    await _call(hass, "delete_clip", clip_id, hass_admin_user.id)
    with pytest.raises(UnknownClip):
        await hass.async_add_executor_job(library.get, clip_id)

    # Who, when and which clip, newest first; in the logbook too, on the camera.
    audit = await hass.async_add_executor_job(AuditLog(library.root).entries, clip_id)
    assert [(e.action, e.user_id, e.user_name) for e in audit] == [
        (AuditAction.DELETE, hass_admin_user.id, hass_admin_user.name),
        (AuditAction.UNPROTECT, hass_admin_user.id, hass_admin_user.name),
        (AuditAction.PROTECT, hass_read_only_user.id, hass_read_only_user.name),
    ]
    camera = entity_id(hass, "camera", doorbell.state.serial, "camera")
    assert [(event.data["entity_id"], event.context.user_id) for event in logbook] == [
        (camera, hass_read_only_user.id),
        (camera, hass_admin_user.id),
        (camera, hass_admin_user.id),
    ]
    assert [event.data["message"] for event in logbook] == [
        f"clip {clip_id}: protect by {hass_read_only_user.name}",
        f"clip {clip_id}: unprotect by {hass_admin_user.name}",
        f"clip {clip_id}: delete by {hass_admin_user.name}",
    ]


async def test_automations_act_as_the_admin_who_wrote_them(
    hass: HomeAssistant, doorbell: VirtualDoorbell, entry: MockConfigEntry, clip_id: str
) -> None:
    library: Library = entry.runtime_data.clips.library
    logbook = async_capture_events(hass, EVENT_LOGBOOK_ENTRY)
    for action in ("protect_clip", "unprotect_clip", "delete_clip"):
        await _call(hass, action, clip_id, None)
    audit = await hass.async_add_executor_job(AuditLog(library.root).entries, clip_id)
    assert [(e.action, e.user_id, e.user_name) for e in audit] == [
        (AuditAction.DELETE, None, None),
        (AuditAction.UNPROTECT, None, None),
        (AuditAction.PROTECT, None, None),
    ]
    assert logbook[-1].data["message"] == f"clip {clip_id}: delete by an automation or script"
    count = entity_id(hass, "sensor", doorbell.state.serial, "clip_count")
    await wait_for(lambda: current(hass, count).state == "0")


async def test_an_automation_acting_for_someone_has_their_rights(
    hass: HomeAssistant,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
    stranger: MockUser,
    entry: MockConfigEntry,
    clip_id: str,
) -> None:
    library: Library = entry.runtime_data.clips.library

    async def act(action: str, user_id: str | None, requested_by: str | None) -> None:
        data = {"clip_id": clip_id, "requested_by": requested_by}
        context = Context(user_id=user_id)
        await hass.services.async_call(DOMAIN, action, data, blocking=True, context=context)

    # A user may not claim to act for another; an administrator may.
    with pytest.raises(Unauthorized):
        await act("protect_clip", hass_read_only_user.id, hass_admin_user.id)
    # Home Assistant itself (an automation) is held to the rights of the one it acts for.
    for action, user, key in (
        ("protect_clip", stranger, "clip_action_not_allowed"),
        ("protect_clip", None, "clip_action_not_allowed"),
    ):
        with pytest.raises(Unauthorized) as err:
            await act(action, None, user.id if user else "no-such-user")
        assert err.value.translation_key == key
    assert not (await hass.async_add_executor_job(library.get, clip_id)).protected
    await act("protect_clip", None, hass_read_only_user.id)
    with pytest.raises(Unauthorized) as err:
        await act("unprotect_clip", None, hass_read_only_user.id)
    assert err.value.translation_key == "clip_action_admin_only"
    await act("unprotect_clip", hass_admin_user.id, hass_admin_user.id)
    await act("protect_clip", None, None)  # no one named: Home Assistant itself
    entries = await hass.async_add_executor_job(AuditLog(library.root).entries, clip_id)
    assert [(e.action, e.user_name) for e in entries] == [  # newest first
        (AuditAction.PROTECT, None),
        (AuditAction.UNPROTECT, hass_admin_user.name),
        (AuditAction.PROTECT, hass_read_only_user.name),
    ]
