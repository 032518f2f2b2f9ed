"""What warming live view on a press costs: Home Assistant's stream remuxing HLS for a window.

    python -m bench.warm_cost [--seconds 120]

Starts a virtual doorbell as a separate process (1080p15 H.264, 2 Mbit/s, a keyframe every
2 s) and a Home Assistant test instance in this one, with its `stream` integration. The
stream reads the doorbell as a warmed camera does today, through the integration's loopback
relay, with an HLS output kept awake as the warmer keeps it (a wake every 10 s) for
`--seconds`, the default window after a press. Measured over that window, from the first
complete segment on:

- the stream worker thread's CPU clock (what one warm-up costs Home Assistant);
- this process's CPU clock (the worker, plus the relay and Home Assistant's event loop);
- the reference: `ffmpeg -rtsp_transport tcp -i <device> -c copy -f hls` (a remux to HLS
  by FFmpeg alone), its process CPU clock, run at the same time;
- the RTSP sessions the device serves while the stream runs (from its `/sim/state`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
import shutil
import tempfile
import threading
import time
import urllib.request

from homeassistant.components.camera import DynamicStreamSettings
from homeassistant.components.stream import CONF_RTSP_TRANSPORT, create_stream
from homeassistant.components.stream.const import HLS_PROVIDER
from homeassistant.components.stream.core import StreamOutput
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_test_home_assistant

from custom_components.local_doorbell.devices.rtsp_relay import RtspRelay
from custom_components.local_doorbell.warm import WAKE_EVERY

from ._common import Doorbell, cpu_seconds, doorbell, free_port

WARM_UP = 30.0  # seconds at most for the stream to connect and complete its first segment


def _worker() -> threading.Thread:
    """Return Home Assistant's stream worker thread."""
    return next(t for t in threading.enumerate() if t.name == "stream_worker")


def _thread_cpu(thread: threading.Thread) -> float:
    """Return a thread's CPU seconds, from its own clock."""
    assert thread.ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def _device_sessions(device: Doorbell) -> int:
    """Return the RTSP sessions the device serves now."""
    with urllib.request.urlopen(f"http://127.0.0.1:{device.http_port}/sim/state") as answer:
        state = json.load(answer)
    return int(state["counters"]["rtsp_sessions"])


def _ffmpeg(url: str, folder: Path) -> list[str]:
    """Return the reference command: FFmpeg remuxing the device's stream to HLS."""
    if (ffmpeg := shutil.which("ffmpeg")) is None:
        raise SystemExit("ffmpeg is missing: install it with `apt-get install ffmpeg`")
    return [
        *(ffmpeg, "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url),
        *("-c", "copy", "-f", "hls", "-hls_time", "2", "-hls_list_size", "5"),
        *("-hls_flags", "delete_segments", str(folder / "index.m3u8")),
    ]


async def _keep_awake(output: StreamOutput, stop: asyncio.Event) -> None:
    """Wake the HLS output as the warmer does, until told to stop."""
    while not stop.is_set():
        output.idle_timer.awake()
        try:
            async with asyncio.timeout(WAKE_EVERY.total_seconds()):
                await stop.wait()
        except TimeoutError:
            pass


async def _measure(
    hass: HomeAssistant, device: Doorbell, seconds: float, hls_dir: Path
) -> dict[str, float]:
    """Run the warmed stream and the FFmpeg reference side by side; return the figures."""
    assert await async_setup_component(
        hass, "http", {"http": {"server_host": "127.0.0.1", "server_port": free_port()}}
    )
    assert await async_setup_component(hass, "stream", {})
    async with RtspRelay() as relay:
        source = await relay.local_url(device.rtsp_url())
        stream = create_stream(hass, source, {CONF_RTSP_TRANSPORT: "tcp"}, DynamicStreamSettings())
        output = stream.add_provider(HLS_PROVIDER)
        await stream.start()
        stop = asyncio.Event()
        awake = asyncio.create_task(_keep_awake(output, stop))
        ffmpeg = await asyncio.create_subprocess_exec(*_ffmpeg(device.rtsp_url(), hls_dir))
        try:
            async with asyncio.timeout(WARM_UP):
                while output.last_sequence < 1:  # one complete segment: as a viewer finds it
                    await asyncio.sleep(0.1)
            sessions = await hass.async_add_executor_job(_device_sessions, device)
            worker = _worker()
            begin = (_thread_cpu(worker), time.process_time(), cpu_seconds(ffmpeg.pid))
            segments = output.last_sequence
            await asyncio.sleep(seconds)
            end = (_thread_cpu(worker), time.process_time(), cpu_seconds(ffmpeg.pid))
            segments = output.last_sequence - segments
        finally:
            ffmpeg.terminate()
            await ffmpeg.wait()
            stop.set()
            await awake
            await stream.stop()
    worker_s, process_s, ffmpeg_s = (b - a for a, b in zip(begin, end, strict=True))
    return {
        "seconds": seconds,
        "worker_cpu_s": worker_s,
        "process_cpu_s": process_s,
        "ffmpeg_cpu_s": ffmpeg_s,
        "segments": segments,
        "device_sessions": sessions - 1,  # the FFmpeg reference holds one of them
    }


async def _main(seconds: float) -> None:
    with doorbell() as device, tempfile.TemporaryDirectory() as folder:
        async with async_test_home_assistant(config_dir=folder) as hass:
            hls_dir = Path(folder) / "ffmpeg"
            hls_dir.mkdir()
            figures = await _measure(hass, device, seconds, hls_dir)
    cores = seconds / 100
    print(f"window {seconds:.0f} s, {figures['segments']} HLS segments")
    print("| what | CPU s | % of one core | vs FFmpeg |")
    print("| --- | --- | --- | --- |")
    for name, key in (
        ("HA stream worker (HLS remux)", "worker_cpu_s"),
        ("process: worker + relay + event loop", "process_cpu_s"),
        ("FFmpeg -c copy -f hls (reference)", "ffmpeg_cpu_s"),
    ):
        value = figures[key]
        ratio = value / figures["ffmpeg_cpu_s"]
        print(f"| {name} | {value:.2f} | {value / cores:.1f} | {ratio:.2f} |")
    print(f"device RTSP sessions held by the warmed stream: {figures['device_sessions']}")


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    asyncio.run(_main(parser.parse_args().seconds))


if __name__ == "__main__":
    main()
