"""WebRTC and STUN: a notice when the camera's WebRTC would send browsers to Home Assistant's
public STUN server, gone once the owner configures ICE servers of their own.

go2rtc cannot run here (no registry carries its binary), so a WebRTC provider registered
through Home Assistant's own API stands in for it: like go2rtc's, it takes RTSP sources.
What is checked is what Home Assistant would hand a browser; nothing goes on the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.components.camera import Camera
from homeassistant.components.camera.webrtc import (
    CameraWebRTCProvider,
    async_register_webrtc_provider,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from webrtc_models import RTCIceCandidateInit

from custom_components.local_doorbell.const import DOMAIN
from virtual_doorbell import VirtualDoorbell

from .conftest import AddEntry, entity_id

LOCAL_STUN = "stun:192.168.1.2:3478"


class RtspWebRTCProvider(CameraWebRTCProvider):
    """A WebRTC provider for RTSP sources, as go2rtc registers itself; it plays nothing."""

    @property
    def domain(self) -> str:
        """Name the provider."""
        return "test_webrtc"

    @callback
    def async_is_supported(self, stream_source: str) -> bool:
        """Take RTSP sources, as go2rtc does."""
        return stream_source.partition(":")[0] in ("rtsp", "rtsps")

    async def async_handle_async_webrtc_offer(
        self, camera: Camera, offer_sdp: str, session_id: str, send_message: Any
    ) -> None:
        """Play nothing: these tests never make an offer."""
        raise AssertionError("no offer expected")

    async def async_on_webrtc_candidate(
        self, session_id: str, candidate: RTCIceCandidateInit
    ) -> None:
        """Play nothing: these tests never send a candidate."""
        raise AssertionError("no candidate expected")


@pytest.fixture
def webrtc(hass: HomeAssistant) -> Iterator[Callable[[], Callable[[], None]]]:
    """Return a function that registers the provider; it is unregistered after the test."""
    removers: list[Callable[[], None]] = []

    def register() -> Callable[[], None]:
        remove = async_register_webrtc_provider(hass, RtspWebRTCProvider())
        removers.append(remove)
        return remove

    yield register
    for remove in removers:
        with contextlib.suppress(KeyError):  # the test removed it itself
            remove()


def _issue(hass: HomeAssistant, doorbell: VirtualDoorbell) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"default_stun_{doorbell.state.serial}")


async def test_no_notice_when_the_camera_plays_only_hls(
    hass: HomeAssistant, doorbell: VirtualDoorbell, add_entry: AddEntry
) -> None:
    await add_entry()
    await hass.async_block_till_done()
    assert _issue(hass, doorbell) is None


@dataclass(frozen=True, slots=True)
class FixFlow:
    """The notice of the default STUN server, and its fix flow as the frontend opened it."""

    entry: MockConfigEntry
    issue: ir.IssueEntry
    client: TestClient[Any, Any]
    opened: dict[str, Any]  # the flow's first step

    async def submit(self) -> dict[str, Any]:
        """Submit the flow's step, as the owner does to check again; return the answer."""
        url = f"/api/repairs/issues/fix/{self.opened['flow_id']}"
        answer: dict[str, Any] = await (await self.client.post(url, json={})).json()
        return answer


@pytest.fixture
async def fix_flow(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    doorbell: VirtualDoorbell,
    add_entry: AddEntry,
    webrtc: Callable[[], Callable[[], None]],
) -> FixFlow:
    """Set the doorbell up where WebRTC hands out Home Assistant's STUN server; open the fix."""
    assert await async_setup_component(hass, "repairs", {})
    entry = await add_entry()
    webrtc()  # go2rtc comes up after the cameras, and Home Assistant re-checks them
    await hass.async_block_till_done()
    issue = _issue(hass, doorbell)
    assert issue is not None
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue.issue_id}
    )
    return FixFlow(entry, issue, client, await response.json())


async def test_webrtc_with_home_assistants_default_raises_a_fixable_notice(
    hass: HomeAssistant, doorbell: VirtualDoorbell, fix_flow: FixFlow
) -> None:
    camera = entity_id(hass, "camera", doorbell.state.serial, "camera")
    issue = fix_flow.issue
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {
        "entity_id": camera,
        "server": "stun.home-assistant.io",
    }
    assert issue.learn_more_url == (
        "https://github.com/local-doorbell/local-doorbell#webrtc-and-stun"
    )
    # The fix flow, as the frontend runs it: nothing changed yet, so it says so.
    assert fix_flow.opened["step_id"] == "confirm"
    assert fix_flow.opened["description_placeholders"]["server"] == "stun.home-assistant.io"
    flow = await fix_flow.submit()
    assert flow["type"] == "form"
    assert flow["errors"] == {"base": "still_default"}
    # The owner names a STUN server of their own (homeassistant: webrtc: ice_servers:, which
    # reloading the core configuration applies), and checks again.
    await async_process_ha_core_config(hass, {"webrtc": {"ice_servers": [{"url": LOCAL_STUN}]}})
    assert (await fix_flow.submit())["type"] == "create_entry"
    assert _issue(hass, doorbell) is None
    # A reload (or restart) checks again, and finds nothing to say.
    assert await hass.config_entries.async_reload(fix_flow.entry.entry_id)
    await hass.async_block_till_done()
    assert _issue(hass, doorbell) is None


@pytest.mark.parametrize(
    ("ice_servers", "notice"),
    [
        ([{"url": LOCAL_STUN}], False),
        ([{"url": ["stun:[fd00::2]:3478", "turn:192.168.1.2:3478?transport=tcp"]}], False),
        ([], True),  # Home Assistant hands out its own server when the list is empty
        ([{"url": "stun:STUN.home-assistant.io:3478"}], True),  # named by the owner
    ],
    ids=["local server", "local IPv6 and TURN", "empty list", "the public one by hand"],
)
async def test_web_rtc_configuration_decides(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    add_entry: AddEntry,
    webrtc: Callable[[], Callable[[], None]],
    ice_servers: list[dict[str, Any]],
    notice: bool,
) -> None:
    # configuration.yaml's web_rtc: section, read when Home Assistant starts.
    assert await async_setup_component(hass, "web_rtc", {"web_rtc": {"ice_servers": ice_servers}})
    assert await async_setup_component(hass, "camera", {})
    webrtc()  # this time the provider is there before the camera
    await hass.async_block_till_done()
    await add_entry()
    await hass.async_block_till_done()
    assert (_issue(hass, doorbell) is not None) is notice


async def test_the_notice_goes_with_webrtc_and_with_the_doorbell(
    hass: HomeAssistant,
    doorbell: VirtualDoorbell,
    add_entry: AddEntry,
    webrtc: Callable[[], Callable[[], None]],
) -> None:
    entry = await add_entry()
    remove = webrtc()
    await hass.async_block_till_done()
    assert _issue(hass, doorbell) is not None
    remove()  # go2rtc unloaded: the camera plays HLS only
    await hass.async_block_till_done()
    assert _issue(hass, doorbell) is None
    webrtc()
    await hass.async_block_till_done()
    assert _issue(hass, doorbell) is not None
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert _issue(hass, doorbell) is None


async def test_the_fix_flow_finishes_when_the_doorbell_is_gone(
    hass: HomeAssistant, doorbell: VirtualDoorbell, fix_flow: FixFlow
) -> None:
    assert await hass.config_entries.async_unload(fix_flow.entry.entry_id)
    assert (await fix_flow.submit())["type"] == "create_entry"
    assert _issue(hass, doorbell) is None
