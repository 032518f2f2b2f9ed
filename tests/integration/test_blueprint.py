"""The ring-notification blueprint, loaded by Home Assistant, against the virtual doorbell.

The companion app cannot run here: a recording notify action stands in for it, and the
button it would report is fired as the app fires it (`mobile_app_notification_action`, in the
context of the phone's user).
"""

from __future__ import annotations

import json
from pathlib import Path
import shutil
from typing import Any

import aiohttp
from homeassistant.components.automation import DOMAIN as AUTOMATION
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_mock_service,
)

from custom_components.local_doorbell.const import DOMAIN
from custom_components.local_doorbell.privacy.audit import AuditAction, AuditLog
from custom_components.local_doorbell.recording.archive.library import Library
from virtual_doorbell import VirtualDoorbell

from .conftest import current, entity_id, wait_for

BLUEPRINT = (
    Path(__file__).parents[2] / "blueprints/automation/local_doorbell/ring_notification.yaml"
)
PHONE = "notify.mobile_app_test_phone"
SPEAKER = "media_player.hall"
CHIME = "media-source://media_source/local/chime.mp3"


@pytest.fixture
async def automation(hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path) -> str:
    """Install the blueprint as Home Assistant would import it and make an automation of it."""
    folder = config_dir / "blueprints" / AUTOMATION / DOMAIN
    folder.mkdir(parents=True)
    shutil.copy(BLUEPRINT, folder / BLUEPRINT.name)
    doorbell = entity_id(hass, "event", str(entry.unique_id), "doorbell")
    config = {
        AUTOMATION: {
            "id": "ring",
            "alias": "Ring",
            "use_blueprint": {
                "path": f"{DOMAIN}/{BLUEPRINT.name}",
                "input": {
                    "doorbell": doorbell,
                    "notify_action": PHONE,
                    "speaker": SPEAKER,
                    "chime": CHIME,
                },
            },
        }
    }
    assert await async_setup_component(hass, AUTOMATION, config)
    await hass.async_block_till_done()
    return "automation.ring"


async def _press(session: aiohttp.ClientSession, doorbell: VirtualDoorbell) -> None:
    """Press the button through the simulator's own endpoint."""
    await wait_for(lambda: doorbell.state.counters.rtsp_sessions >= 1)
    async with session.post(f"{doorbell.url}/sim/press") as response:
        assert response.status == 200


async def test_a_ring_notifies_with_a_local_picture_and_a_keep_button(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    automation: str,
    session: aiohttp.ClientSession,
    hass_admin_user: MockUser,
) -> None:
    assert current(hass, automation).state == "on"
    phone = async_mock_service(hass, "notify", PHONE.split(".")[1])
    chimes = async_mock_service(hass, "media_player", "play_media")
    serial = doorbell.state.serial
    await wait_for(lambda: entry.runtime_data.clips.recorder.connected, 20)
    await _press(session, doorbell)
    await wait_for(lambda: len(phone) == 1)

    payload: dict[str, Any] = dict(phone[0].data)
    assert payload["message"] == "Someone is at the door"
    assert payload["title"] == "Doorbell"
    data = payload["data"]
    image = entity_id(hass, "image", serial, "last_visitor")
    assert data["image"] == f"/api/image_proxy/{image}"
    camera = entity_id(hass, "camera", serial, "camera")
    assert data["clickAction"] == f"entityId:{camera}"
    assert data["url"] == f"/?more-info-entity-id={camera}"
    # Nothing the phone would fetch from anywhere but this Home Assistant.
    assert "http" not in json.dumps(payload).lower()
    assert "//" not in json.dumps(payload)

    # The button names the ring's clip, which the recorder writes.
    event = current(hass, entity_id(hass, "event", serial, "doorbell"))
    clip_id = event.attributes["clip_id"]
    ((button),) = data["actions"]
    assert button == {
        "action": f"LOCAL_DOORBELL_KEEP:{automation}:{clip_id}",
        "title": "Keep this clip",
    }
    library: Library = entry.runtime_data.clips.library
    await wait_for(lambda: clip_id in {clip.id for clip in library.clips()}, 30)
    assert "ring" in (await hass.async_add_executor_job(library.get, clip_id)).triggers
    assert [call.data for call in chimes] == [
        {"entity_id": [SPEAKER], "media_content_id": CHIME, "media_content_type": "music"}
    ]

    # The owner taps "Keep this clip".
    tap = Context(user_id=hass_admin_user.id)
    hass.bus.async_fire("mobile_app_notification_action", {"action": button["action"]}, context=tap)
    audit = AuditLog(library.root)
    await wait_for(lambda: bool(audit.entries(clip_id)))
    assert library.get(clip_id).protected
    (audited,) = await hass.async_add_executor_job(audit.entries, clip_id)
    assert (audited.action, audited.user_id) == (AuditAction.PROTECT, hass_admin_user.id)


async def test_keep_is_refused_to_whoever_may_not_see_the_camera(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
    automation: str,
    session: aiohttp.ClientSession,
) -> None:
    phone: list[ServiceCall] = async_mock_service(hass, "notify", PHONE.split(".")[1])
    async_mock_service(hass, "media_player", "play_media")
    stranger = MockUser(name="Stranger").add_to_hass(hass)
    stranger.mock_policy({"entities": {"entity_ids": {"light.kitchen": True}}})
    await wait_for(lambda: entry.runtime_data.clips.recorder.connected, 20)
    await _press(session, doorbell)
    await wait_for(lambda: len(phone) == 1)
    (button,) = phone[0].data["data"]["actions"]
    clip_id = button["action"].rsplit(":", 1)[1]
    library: Library = entry.runtime_data.clips.library
    await wait_for(lambda: clip_id in {clip.id for clip in library.clips()}, 30)

    # Any user with the app can fire this event: the automation acts with their rights.
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": button["action"]},
        context=Context(user_id=stranger.id),
    )
    await hass.async_block_till_done()
    assert not library.get(clip_id).protected
    # Nor does a button of another automation, or none at all, do anything.
    for action in (f"LOCAL_DOORBELL_KEEP:automation.other:{clip_id}", "ALARM", None):
        hass.bus.async_fire("mobile_app_notification_action", {"action": action})
    await hass.async_block_till_done()
    assert not library.get(clip_id).protected
    assert await hass.async_add_executor_job(AuditLog(library.root).entries, clip_id) == []
