"""Run by `bench.live_view` through pytest: Home Assistant's HLS, cold and warm, to a picture.

A real Home Assistant core (pytest-homeassistant-custom-component's), its HTTP served on a
loopback port, our integration reading the benchmark's virtual doorbell. From the websocket
`camera/stream` request to the first picture PyAV decodes from what a player fetches: the
master playlist, the media playlist, the init segment and the part (or segment) an LL-HLS
player starts at (the newest independent part at or before the playlist's start offset).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from pathlib import Path
import re
import time
from typing import Any

import av
from homeassistant.components.camera import get_camera_from_entity_id
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

# Import our package so that Home Assistant loads it, not the test plugin's copy.
import custom_components.local_doorbell  # noqa: F401
from custom_components.local_doorbell.const import CONF_STORAGE_ROOT, DOMAIN

from ._common import PASSWORD

_PART = re.compile(r'#EXT-X-PART:DURATION=([\d.]+),URI="([^"]+)"(,INDEPENDENT=YES)?')
_START = re.compile(r"#EXT-X-START:TIME-OFFSET=(-?[\d.]+)")


@pytest.fixture(autouse=True)
def custom(enable_custom_integrations: None) -> None:
    """Let Home Assistant load our integration."""


def start_uri(playlist: str) -> str:
    """Return the part (or segment) an LL-HLS player starts playing at."""
    position, parts, segments = 0.0, [], []
    segment_start, had_parts, duration = 0.0, False, 0.0
    for line in playlist.splitlines():
        if match := _PART.match(line):
            if not had_parts:
                segment_start, had_parts = position, True
            if match[3]:
                parts.append((position, match[2]))
            position += float(match[1])
        elif line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line and not line.startswith("#"):
            start = segment_start if had_parts else position
            segments.append((start, line))
            position = start + duration
            had_parts = False
    offset = float(m[1]) if (m := _START.search(playlist)) else 0.0
    target = position + offset if offset < 0 else offset
    if parts:
        before = [uri for start, uri in parts if start <= target]
        return before[-1] if before else parts[0][1]
    return [uri for start, uri in segments if start <= target][-1]


async def first_picture(client: Any, url: str) -> tuple[float, float]:
    """Fetch the stream as a player does; return when the master playlist came, and when its
    first picture was decoded."""
    base = url.rsplit("/", 1)[0]
    master = await client.get(url)  # Home Assistant answers once a segment is complete
    assert master.status == 200, master.status
    answered = time.perf_counter()
    playlist = await (await client.get(f"{base}/playlist.m3u8")).text()
    init = await (await client.get(f"{base}/init.mp4")).read()
    media = await (await client.get(f"{base}/{start_uri(playlist)}")).read()
    with av.open(io.BytesIO(init + media), mode="r") as container:
        next(container.decode(video=0))
    return answered, time.perf_counter()


# Home Assistant's stream leaves its idle timer scheduled after stop(); that is its own.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_hls_first_picture(
    hass: HomeAssistant,
    hass_ws_client: Any,
    hass_client: Any,
    socket_enabled: None,
    tmp_path: Path,
) -> None:
    """Measure cold and warm first pictures; write them where the benchmark reads them."""
    trials = int(os.environ["LIVE_BENCH_TRIALS"])
    hass.config.config_dir = str(tmp_path)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="bench",
        data={
            CONF_HOST: "127.0.0.1",
            CONF_PORT: int(os.environ["LIVE_BENCH_HTTP_PORT"]),
            CONF_USERNAME: "admin",
            CONF_PASSWORD: PASSWORD,
        },
        options={CONF_STORAGE_ROOT: str(tmp_path / "clips")},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    segment = os.environ.get("LIVE_BENCH_SEGMENT")  # Home Assistant's default (6 s) if unset
    stream = {"stream": {"segment_duration": float(segment)}} if segment else {}
    assert await async_setup_component(hass, "stream", stream)
    camera_id = next(
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.domain == "camera"
    )
    while not entry.runtime_data.clips.recorder.connected:
        await asyncio.sleep(0.1)
    await asyncio.sleep(3)  # the recorder settles; the restream holds a keyframe
    ws = await hass_ws_client(hass)
    client = await hass_client()
    camera = get_camera_from_entity_id(hass, camera_id)
    results: dict[str, list[float]] = {"cold": [], "warm": [], "cold_master": [], "warm_master": []}
    for trial in range(trials):
        for kind in ("cold", "warm"):
            asked = time.perf_counter()
            await ws.send_json(
                {
                    "id": 2 * trial + (kind == "warm") + 1,
                    "type": "camera/stream",
                    "entity_id": camera_id,
                }
            )
            answer = await ws.receive_json()
            assert answer["success"], answer
            answered, shown = await first_picture(client, answer["result"]["url"])
            results[kind].append(shown - asked)
            results[f"{kind}_master"].append(answered - asked)
            await asyncio.sleep(2)
        assert camera.stream is not None
        await camera.stream.stop()  # the next trial starts cold, with a new stream
        camera.stream = None
        await asyncio.sleep(2)
    await hass.async_add_executor_job(
        Path(os.environ["LIVE_BENCH_OUT"]).write_text, json.dumps(results)
    )
    assert await hass.config_entries.async_unload(entry.entry_id)
