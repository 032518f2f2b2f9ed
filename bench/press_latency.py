"""Press → event-entity state written, against the raw HTTP event round trip of the same device.

    python -m bench.press_latency [--presses 1000]

Runs a real Home Assistant (the test harness's instance) with the integration and a virtual
doorbell on loopback, presses the button N times, and measures how long each press takes to
become the event entity's new state. The reference is a bare aiohttp client reading the same
device's event stream: the time the device and the network alone take. Goal: p99 < 25 ms.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import statistics
import time
from typing import Any

import aiohttp
from homeassistant import loader
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

import custom_components.local_doorbell  # noqa: F401 - load ours, not a test copy
from custom_components.local_doorbell.const import CONF_RECORD_TRIGGERS, DOMAIN
from virtual_doorbell import VideoSettings, VirtualDoorbell

from ._common import PASSWORD, no_ring_debounce, print_latency_table

VIDEO = VideoSettings(width=320, height=240, fps=5, gop_seconds=2.0, bitrate=100_000)


async def _timed_presses(
    doorbell: VirtualDoorbell, presses: int, arrived: asyncio.Queue[float]
) -> list[float]:
    """Press `presses` times; return each press's latency in milliseconds."""
    latencies = []
    for _ in range(presses):
        while not arrived.empty():
            arrived.get_nowait()
        start = time.perf_counter()
        doorbell.press()
        end = await asyncio.wait_for(arrived.get(), 5)
        latencies.append((end - start) * 1000)
    return latencies


async def _reference(doorbell: VirtualDoorbell, presses: int) -> list[float]:
    """Measure press → event part read by a bare HTTP client."""
    arrived: asyncio.Queue[float] = asyncio.Queue()
    url = f"{doorbell.url}/cgi-bin/eventManager.cgi?action=attach&codes=[All]&heartbeat=5"
    auth = aiohttp.DigestAuthMiddleware(doorbell.username, doorbell.password)
    async with aiohttp.ClientSession() as session, session.get(url, middlewares=(auth,)) as resp:

        async def reader() -> None:
            async for chunk in resp.content.iter_any():
                if b"Code=CallNoAnswered" in chunk:
                    arrived.put_nowait(time.perf_counter())

        task = asyncio.create_task(reader())
        try:
            return await _timed_presses(doorbell, presses, arrived)
        finally:
            task.cancel()


async def _through_home_assistant(
    hass: HomeAssistant, doorbell: VirtualDoorbell, presses: int
) -> list[float]:
    """Measure press → the event entity's state written in Home Assistant."""
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=doorbell.state.serial,
        data={
            "host": doorbell.host,
            "port": doorbell.http_port,
            "username": doorbell.username,
            "password": doorbell.password,
        },
        # A recorded ring waits for its clip to open (a picture interval: 200 ms at this
        # bench's 5 fps) to name it; bench.ring_picture measures that. This one measures
        # the event's own path.
        options={CONF_RECORD_TRIGGERS: []},
    )
    entry.add_to_hass(hass)
    attached = doorbell.state.counters.event_clients_total
    assert await hass.config_entries.async_setup(entry.entry_id)
    while doorbell.state.counters.event_clients_total == attached:
        await asyncio.sleep(0.01)
    arrived: asyncio.Queue[float] = asyncio.Queue()

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and new.attributes.get("event_type") == "ring":
            arrived.put_nowait(time.perf_counter())

    unsub: Callable[[], None] = hass.bus.async_listen("state_changed", changed)
    try:
        return await _timed_presses(doorbell, presses, arrived)
    finally:
        unsub()
        await hass.config_entries.async_unload(entry.entry_id)


async def main(presses: int) -> dict[str, Any]:
    """Run both measurements and print the table."""
    no_ring_debounce()  # the benchmark presses back to back
    doorbell = VirtualDoorbell(password=PASSWORD, video=VIDEO)
    await doorbell.start()
    try:
        reference = await _reference(doorbell, presses)
        async with async_test_home_assistant() as hass:
            measured = await _through_home_assistant(hass, doorbell, presses)
            await hass.async_stop(force=True)
    finally:
        await doorbell.stop()
    print_latency_table(
        [("raw HTTP event round trip (ref.)", reference), ("press → event entity state", measured)]
    )
    p99 = statistics.quantiles(measured, n=100)[98]
    print(f"goal: p99 < 25 ms — {'met' if p99 < 25 else 'NOT met'} ({p99:.2f} ms)")
    return {"reference": reference, "measured": measured}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--presses", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.presses))
