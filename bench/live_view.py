"""Live view: how soon a viewer sees a picture, what the restream costs, how many sessions.

    python -m bench.live_view [--trials 6] [--seconds 20]

Starts a virtual doorbell as a separate process (1080p15 H.264, 2 Mbit/s, a keyframe every
2 s) and measures, in the same run:

- RTSP: a fresh client's first decodable picture (connect, DESCRIBE, SETUP, PLAY, RTP until
  a whole keyframe, decoded by PyAV) from the device itself and from the restream (a child
  process running our Recorder with its Restream, as Home Assistant runs them): what go2rtc's
  WebRTC start waits for. Trials alternate and are spaced by a fraction of the GOP.
- HLS, through Home Assistant (a real core run by pytest-homeassistant-custom-component, its
  HTTP on loopback): from the websocket `camera/stream` request to the first picture PyAV
  decodes from what an LL-HLS player fetches; cold (Home Assistant's stream not running)
  and warm (running).
- CPU, from the processes' and threads' CPU clocks over `--seconds`: the child (recording and
  restream) with 0, 1 and 4 RTSP viewers, against FFmpeg `-c copy` recording the device
  alone (the reference of bench.recording_cpu); the restream's thread (RTSP) and the
  ingest's (which sends the media) apart.
- RTSP sessions at the device while 4 viewers watch (the simulator's counter).

Home Assistant's HLS is measured twice: with its default `segment_duration` (6 s: its
master playlist answers once the first segment of at least 5.9 s is complete) and with 2 s.

Goals (issue 14): fresh RTSP client ≤ 150 ms; cold HLS ≤ 2.5 s; warm ≤ 0.7 s; 1 device
session; recording + one viewer ≤ 1.3 x FFmpeg `-c copy` alone.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator
import contextlib
import json
import os
from pathlib import Path
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit
import urllib.request

from custom_components.local_doorbell.recording.capture.recorder import Recorder
from custom_components.local_doorbell.rtsp.restream import USER, Restream
from tests.helpers.rtsp import RawClient, access_units, annexb, decode_h264

from ._common import cpu_seconds, doorbell, ffmpeg_copy

GOALS = {"rtsp_ms": 150.0, "cold_s": 2.5, "warm_s": 0.7, "ratio": 1.3}
VIEWERS = (0, 1, 4)


# --- children -------------------------------------------------------------------------------


def _thread_cpu(prefix: str) -> float:
    """Return the CPU seconds of this process's threads whose names start with `prefix`."""
    return sum(
        time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
        for thread in threading.enumerate()
        if thread.name.startswith(prefix) and thread.ident is not None
    )


def _serve(url: str, folder: Path) -> None:
    """Child: record the device with a restream, as the integration does, until stdin ends."""
    restream = Restream()
    restream.open()
    recorder = Recorder(
        url,
        clip_paths=lambda trigger, start: (folder / "clip.mp4", folder / "clip.jpg"),
        on_clip=lambda result: None,
        live=restream,
    )
    recorder.start()
    while not recorder.connected:
        time.sleep(0.05)
    print(f"READY {restream.url}", flush=True)
    for _ in sys.stdin:  # each line asks for the clocks
        clocks = {
            "process": cpu_seconds(os.getpid()),
            "restream": _thread_cpu("restream"),
            "ingest": _thread_cpu("ingest"),
            "viewers": restream.viewers,
        }
        print(json.dumps(clocks), flush=True)
    recorder.stop()
    restream.close()


async def _view(url: str, count: int) -> None:
    """Child: `count` RTSP clients play the restream and drain it until killed."""
    parts = urlsplit(url)
    plain = url.replace(f"{parts.username}:{parts.password}@", "")
    clients = [
        await RawClient.connect(parts.port or 554, USER, parts.password or "") for _ in range(count)
    ]
    for client in clients:
        assert (await client.play(plain)).status == 200

    async def drain(client: RawClient) -> None:
        while await client.reader.read(65536):
            pass

    print("WATCHING", flush=True)
    await asyncio.gather(*(drain(client) for client in clients))


# --- measurements ---------------------------------------------------------------------------


async def first_rtsp_picture(url: str) -> float:
    """Return the seconds from connecting to a decoded picture, for a fresh RTSP client."""
    parts = urlsplit(url)
    plain = url.replace(f"{parts.username}:{parts.password}@", "")
    began = time.perf_counter()
    client = await RawClient.connect(parts.port or 554, parts.username or "", parts.password or "")
    try:
        assert (await client.play(plain)).status == 200
        units = await access_units(client, 1)
        assert decode_h264(annexb(units)), "the first access unit did not decode"
        return time.perf_counter() - began
    finally:
        client.close()


async def rtsp_trials(device: str, restream: str, trials: int) -> dict[str, list[float]]:
    """Alternate fresh clients of the device and of the restream."""
    found: dict[str, list[float]] = {"device": [], "restream": []}
    for trial in range(trials):
        for name, url in (("device", device), ("restream", restream)):
            found[name].append(await first_rtsp_picture(url))
            await asyncio.sleep(0.37 * (trial + 1) % 2.0 + 0.3)  # spread over the GOP
    return found


def hls_trials(
    http_port: int, trials: int, scratch: Path, segment: float | None = None
) -> dict[str, list[float]]:
    """Run the Home Assistant part under pytest; return its cold and warm seconds.

    `segment`: Home Assistant's `stream: segment_duration:` (its default, 6 s, if None).
    """
    out = scratch / f"hls-{segment}.json"
    environment = {
        **os.environ,
        "LIVE_BENCH_SEGMENT": "" if segment is None else str(segment),
        "LIVE_BENCH_HTTP_PORT": str(http_port),
        "LIVE_BENCH_TRIALS": str(trials),
        "LIVE_BENCH_OUT": str(out),
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "bench/_hls_ha.py"]
    run = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if not out.exists():
        raise RuntimeError(f"the Home Assistant part failed:\n{run.stdout[-4000:]}")
    found: dict[str, list[float]] = json.loads(out.read_text())
    return found


def sessions(http_port: int) -> int:
    """Return the RTSP sessions the device serves now."""
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/sim/state", timeout=5) as answer:
        state = json.load(answer)
    count: int = state["counters"]["rtsp_sessions"]
    return count


class Child:
    """The recording-and-restream child process, whose clocks we read on demand."""

    def __init__(self, url: str, folder: Path) -> None:
        command = [sys.executable, "-m", "bench.live_view", "--serve", url, str(folder)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().split()
        if ready[:1] != ["READY"]:
            raise RuntimeError("the restream did not start")
        self.url = ready[1]

    def clocks(self) -> dict[str, float]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        clocks: dict[str, float] = json.loads(self.process.stdout.readline())
        return clocks

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(30)


@contextlib.contextmanager
def viewers(url: str, count: int) -> Iterator[subprocess.Popen[str] | None]:
    if not count:
        yield None
        return
    command = [sys.executable, "-m", "bench.live_view", "--view", url, "--count", str(count)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "WATCHING":
            raise RuntimeError("the viewers did not start")
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def cpu_windows(
    child: Child, device_url: str, seconds: float, scratch: Path
) -> list[dict[str, float]]:
    """Measure the child and FFmpeg's copy over the same window, per number of viewers."""
    windows = []
    reference = subprocess.Popen(ffmpeg_copy(device_url, scratch / "ffmpeg"))
    try:
        for count in VIEWERS:
            with viewers(child.url, count):
                time.sleep(3)  # the viewers settle
                before, ffmpeg_before = child.clocks(), cpu_seconds(reference.pid)
                time.sleep(seconds)
                after, ffmpeg_after = child.clocks(), cpu_seconds(reference.pid)
                window = {
                    key: after[key] - before[key] for key in ("process", "restream", "ingest")
                }
                window["viewers"] = after["viewers"]
                window["ffmpeg"] = ffmpeg_after - ffmpeg_before
                windows.append(window)
    finally:
        reference.send_signal(signal.SIGINT)
        reference.wait(30)
    return windows


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} / {max(values) * 1000:.0f}"


def _s(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} / {max(values):.2f}"


def main(trials: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as scratch, doorbell() as device:
        folder = Path(scratch)
        child = Child(device.rtsp_url(), folder)
        try:
            rtsp = asyncio.run(rtsp_trials(device.rtsp_url(), child.url, trials))
            with viewers(child.url, 4):
                time.sleep(1)
                device_sessions = sessions(device.http_port)
            windows = cpu_windows(child, device.rtsp_url(), seconds, folder)
        finally:
            child.close()
        hls = hls_trials(device.http_port, trials, folder)
        short = hls_trials(device.http_port, trials, folder, segment=2.0)
    load = os.getloadavg()
    print(
        f"Virtual doorbell 1080p15 H.264 2 Mbit/s, a keyframe every 2 s; {trials} trials;"
        f" CPU over {seconds:g} s per row; load average at the end {load[0]:.2f} / {load[1]:.2f}"
    )
    print("| first decodable picture | median / max | goal |")
    print("| --- | --- | --- |")
    print(f"| fresh RTSP client, device direct | {_ms(rtsp['device'])} ms | (reference) |")
    print(
        f"| fresh RTSP client, restream | {_ms(rtsp['restream'])} ms | ≤ {GOALS['rtsp_ms']:g} ms |"
    )
    cold = f"{_s(hls['cold'])} s | ≤ {GOALS['cold_s']} s"
    print(f"| HLS cold (Home Assistant's stream starts) | {cold} |")
    print(f"| HLS warm (stream running) | {_s(hls['warm'])} s | ≤ {GOALS['warm_s']} s |")
    print(f"| … of which the master playlist, cold | {_s(hls['cold_master'])} s | |")
    setting = "`stream: segment_duration: 2`"
    print(f"| HLS cold, {setting} | {_s(short['cold'])} s | ≤ {GOALS['cold_s']} s |")
    print(f"| HLS warm, {setting} | {_s(short['warm'])} s | ≤ {GOALS['warm_s']} s |")
    print()
    print(
        "| RTSP viewers of the restream | FFmpeg -c copy s/min (ref.) | ours s/min | ours/FFmpeg |"
        " restream thread s/min | ingest thread s/min |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for count, window in zip(VIEWERS, windows, strict=True):
        per_min = 60 / seconds
        print(
            f"| {count} | {window['ffmpeg'] * per_min:.3f} | {window['process'] * per_min:.3f}"
            f" | {window['process'] / window['ffmpeg']:.2f} | {window['restream'] * per_min:.3f}"
            f" | {window['ingest'] * per_min:.3f} |"
        )
    one, four = windows[1], windows[2]
    per_viewer = (four["process"] - one["process"]) / 3 * 60 / seconds
    print(f"\nper additional viewer (the whole process): {per_viewer:.3f} CPU s/min")
    print(f"RTSP sessions at the device while 4 viewers watch the restream: {device_sessions}")
    ratio = one["process"] / one["ffmpeg"]
    checks = [
        ("fresh RTSP client", statistics.median(rtsp["restream"]) * 1000 <= GOALS["rtsp_ms"]),
        ("cold HLS", statistics.median(hls["cold"]) <= GOALS["cold_s"]),
        ("warm HLS", statistics.median(hls["warm"]) <= GOALS["warm_s"]),
        ("one device session", device_sessions == 1),
        (
            f"recording + one viewer ≤ {GOALS['ratio']} x FFmpeg ({ratio:.2f})",
            ratio <= GOALS["ratio"],
        ),
    ]
    for name, met in checks:
        print(f"goal {name}: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--serve", nargs=2, metavar=("URL", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--view", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve[0], Path(args.serve[1]))
    elif args.view:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_view(args.view, args.count))
    else:
        main(args.trials, args.seconds)
