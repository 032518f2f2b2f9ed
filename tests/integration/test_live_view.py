"""Live view: Home Assistant's own stream component plays the doorbell's RTSP as HLS."""

from __future__ import annotations

import io

import av
from homeassistant.components.camera import async_request_stream, get_camera_from_entity_id
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from virtual_doorbell import VirtualDoorbell

from ..conftest import TEST_VIDEO
from .conftest import entity_id


# Home Assistant's stream leaves its idle timer scheduled after stop(); that is its own.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_hls_live_view_decodes(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    doorbell: VirtualDoorbell,
    entry: MockConfigEntry,
) -> None:
    assert await async_setup_component(hass, "stream", {})
    camera_id = entity_id(hass, "camera", doorbell.state.serial, "camera")
    camera = get_camera_from_entity_id(hass, camera_id)
    try:
        url = await async_request_stream(hass, camera_id, "hls")
        client = await hass_client()
        # The master playlist answers once two segments exist: the stream is really flowing.
        master = await client.get(url)
        assert master.status == 200
        assert 'CODECS="avc1.' in await master.text()
        init = await client.get(url.replace("master_playlist.m3u8", "init.mp4"))
        assert init.status == 200
        playlist = await (await client.get(url.replace("master_playlist", "playlist"))).text()
        segment_name = next(line for line in playlist.splitlines() if line.endswith(".m4s"))
        segment = await client.get(url.replace("master_playlist.m3u8", segment_name))
        assert segment.status == 200
        media = io.BytesIO(await init.read() + await segment.read())
        with av.open(media, mode="r") as container:
            frames = list(container.decode(video=0))
        assert frames
        assert (frames[0].width, frames[0].height) == (TEST_VIDEO.width, TEST_VIDEO.height)
        assert doorbell.state.counters.rtsp_sessions_total >= 1
    finally:
        if camera.stream is not None:
            await camera.stream.stop()
