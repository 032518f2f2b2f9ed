"""Recorder memory per doorbell, and snapshot latency from its keyframe cache.

    python -m bench.recorder_memory [--calls 200] [--spread 20] [--captures 20]

Starts a virtual doorbell as a separate process (1080p15, 2 Mbit/s, a keyframe every 2 s)
and runs a `Recorder` on its main stream in a child process, once with a pre-roll of 5 s
and once with 30 s. Memory per doorbell is the child's RSS growth from just before
`start()`: after warm-up (the pre-roll full), then after 200 `latest_jpeg()` calls spread
over 20 s, which time the snapshot cache (the first call after each new keyframe decodes
it, so `--spread` sets how many calls decode: one each keyframe interval), then after 20
`capture()` calls spread over 10 s (a ring's full-size picture, decoded from its keyframe
through up to a keyframe interval of pictures). At the end the pre-roll
is written out as a clip with no post-roll, which tells the buffer's size. Reference in
the same run: the device's own snapshot over HTTP with digest authentication (what the
camera would fetch without the cache), as many calls over as long, while the second
recorder warms up. Cached calls and calls that decode a new keyframe are reported apart.
Goals: every call's p95 well under 50 ms, and the decoding calls' p95 no slower than the
device's own snapshot fetched right after each of them. About two minutes.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
import multiprocessing
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
from typing import IO
import urllib.request

import aiohttp

from custom_components.local_doorbell.recording.capture.clip import ClipResult
from custom_components.local_doorbell.recording.capture.recorder import Recorder

WIDTH, HEIGHT, FPS = 1920, 1080, 15
BITRATE = 2_000_000  # the virtual doorbell's default
GOP = 2.0  # seconds, the virtual doorbell's default
CALLS = 200
SPREAD = 20.0  # seconds over which the snapshot calls are spread: decoding calls = SPREAD / GOP
CAPTURES = 20
CAPTURE_SPREAD = 10.3  # seconds: not a multiple of the keyframe interval
GOAL_MS = 50.0
MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class Plan:
    """How a child times snapshots, and where it fetches the device's own for a pair."""

    calls: int
    spread: float  # seconds
    device: str  # the device's snapshot URL
    password: str


@dataclass(frozen=True, slots=True)
class ChildFigures:
    """What a recorder's process measured about itself."""

    pre_roll: float
    rss_before: int  # bytes, just before start()
    rss_warm: int  # bytes, once the pre-roll is full
    rss_end: int  # bytes, after the snapshot calls
    rss_captured: int  # bytes, after the capture() calls
    rss_peak: int  # bytes, the process's high-water mark before the clip
    captured_ms: tuple[float, ...]  # capture() calls, until the picture is answered
    cached_ms: tuple[float, ...]  # latest_jpeg() calls answered from the cache
    decoded_ms: tuple[float, ...]  # the first call after each new keyframe
    paired_ms: tuple[float, ...]  # the device's own snapshot, fetched right after each of those
    clip_bytes: int  # the clip of the pre-roll alone (post-roll 0)
    clip_seconds: float


def _status(field: str) -> int:
    """Return a memory field of /proc/self/status (VmRSS, VmHWM) in bytes."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        name, _, value = line.partition(":")
        if name == field:
            return int(value.split()[0]) * 1024
    raise LookupError(field)


def _time_snapshots(recorder: Recorder, plan: Plan) -> tuple[list[float], list[float], list[float]]:
    """Call latest_jpeg() as planned; return cached, decoding and paired device ms.

    A decoding call comes just after a keyframe, when the device has just encoded it and
    the recorder read it: the device's own snapshot is fetched at once after it, so the
    pair meet the same moment on a machine they share.
    """
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, plan.device, "admin", plan.password)
    device = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(passwords))
    cached: list[float] = []
    decoded: list[float] = []
    paired: list[float] = []
    previous: bytes | None = None
    due = time.monotonic()
    for _ in range(plan.calls):
        start = time.perf_counter()
        jpeg = recorder.latest_jpeg()
        elapsed = (time.perf_counter() - start) * 1000
        if jpeg is None:
            raise RuntimeError("the recorder lost the stream")
        # The cache hands out the same bytes until a new keyframe arrives.
        if jpeg is previous:
            cached.append(elapsed)
        else:
            decoded.append(elapsed)
            start = time.perf_counter()
            with device.open(plan.device, timeout=5) as answer:
                answer.read()
            paired.append((time.perf_counter() - start) * 1000)
        previous = jpeg
        due += plan.spread / plan.calls
        time.sleep(max(0.0, due - time.monotonic()))
    return cached, decoded, paired


def _time_captures(recorder: Recorder, captures: int) -> list[float]:
    """Ask for `captures` pictures over CAPTURE_SPREAD seconds; return ms until each came."""
    waited: list[float] = []
    due = time.monotonic()
    for _ in range(captures):
        start = time.perf_counter()
        if recorder.capture().result(5) is None:
            raise RuntimeError("the recorder gave no picture")
        waited.append((time.perf_counter() - start) * 1000)
        # Moments fall anywhere in a keyframe interval: runs of every length are decoded.
        due += CAPTURE_SPREAD / captures
        time.sleep(max(0.0, due - time.monotonic()))
    return waited


def _child(url: str, pre_roll: float, plan: Plan, captures: int, results: Connection) -> None:
    """Run one recorder, then write its pre-roll out as a clip; send back its figures."""
    finished: list[ClipResult] = []
    done = threading.Event()

    def on_clip(result: ClipResult) -> None:
        finished.append(result)
        done.set()

    with tempfile.TemporaryDirectory(prefix="bench-recorder-") as scratch:
        clip = Path(scratch) / "clip.mp4"
        # No post-roll: the clip is what the pre-roll buffer held when triggered.
        recorder = Recorder(
            url,
            clip_paths=lambda trigger, start: (clip, clip.with_suffix(".jpg")),
            on_clip=on_clip,
            pre_roll=pre_roll,
            post_roll=0.0,
        )
        rss_before = _status("VmRSS")
        started = time.monotonic()
        recorder.start()
        try:
            while not recorder.connected:
                if time.monotonic() - started > 30:
                    raise TimeoutError("the recorder did not connect")
                time.sleep(0.05)
            # Whole groups of pictures covering the pre-roll, and one arriving.
            time.sleep(pre_roll + 2 * GOP + 1)
            rss_warm = _status("VmRSS")
            cached, decoded, paired = _time_snapshots(recorder, plan)
            rss_end = _status("VmRSS")
            captured = _time_captures(recorder, captures)
            rss_captured = _status("VmRSS")
            rss_peak = _status("VmHWM")
            recorder.trigger("bench")
            if not done.wait(15):
                raise TimeoutError("the pre-roll clip was not finished")
        finally:
            recorder.stop()
    (written,) = finished
    results.send(
        ChildFigures(
            pre_roll=pre_roll,
            rss_before=rss_before,
            rss_warm=rss_warm,
            rss_end=rss_end,
            rss_captured=rss_captured,
            rss_peak=rss_peak,
            captured_ms=tuple(captured),
            cached_ms=tuple(cached),
            decoded_ms=tuple(decoded),
            paired_ms=tuple(paired),
            clip_bytes=written.size,
            clip_seconds=written.duration,
        )
    )


class _Run:
    """A recorder's child process, started at once; `figures()` waits for its results."""

    def __init__(self, url: str, pre_roll: float, plan: Plan, captures: int) -> None:
        """Start the child."""
        context = multiprocessing.get_context("spawn")
        self._results, sending = context.Pipe(duplex=False)
        self._process: BaseProcess = context.Process(
            target=_child,
            args=(url, pre_roll, plan, captures, sending),
            name=f"recorder-{pre_roll:g}s",
        )
        self._process.start()
        sending.close()

    def figures(self) -> ChildFigures:
        """Wait for the child's figures and for it to end."""
        try:
            figures = self._results.recv()
        except EOFError:
            raise RuntimeError("the recorder's process failed; see its output") from None
        self._process.join(10)
        if not isinstance(figures, ChildFigures):
            raise TypeError(figures)
        return figures


def _free_port() -> int:
    """Return a loopback TCP port that is free now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def _doorbell(password: str, log: IO[bytes]) -> AsyncIterator[tuple[str, str]]:
    """Run a virtual doorbell process logging to `log`; yield its HTTP and RTSP URLs."""
    http_port, rtsp_port = _free_port(), _free_port()
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "virtual_doorbell", "--host", "127.0.0.1"),
        *("--http-port", str(http_port), "--rtsp-port", str(rtsp_port)),
        *("--password", password, "--width", str(WIDTH), "--height", str(HEIGHT)),
        *("--fps", str(FPS), "--bitrate", str(BITRATE), "--gop-seconds", str(GOP)),
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
    )
    try:
        assert process.stdout is not None
        if not (await process.stdout.readline()).startswith(b"Virtual doorbell"):
            log.seek(0)
            tail = log.read()[-2000:].decode(errors="replace")
            raise RuntimeError(f"the virtual doorbell did not start:\n{tail}")
        yield (
            f"http://127.0.0.1:{http_port}",
            f"rtsp://admin:{password}@127.0.0.1:{rtsp_port}/cam/realmonitor?channel=1&subtype=0",
        )
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _device_snapshots(plan: Plan) -> list[float]:
    """Fetch the device's own snapshot as often as planned; return ms each."""
    url, calls, spread = plan.device, plan.calls, plan.spread
    auth = aiohttp.DigestAuthMiddleware("admin", plan.password)
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as session:
        due = loop.time()
        for _ in range(calls):
            start = time.perf_counter()
            async with session.get(url, middlewares=(auth,)) as response:
                response.raise_for_status()
                await response.read()
            latencies.append((time.perf_counter() - start) * 1000)
            due += spread / calls
            await asyncio.sleep(max(0.0, due - loop.time()))
    return latencies


def _pct(values: list[float] | tuple[float, ...], percent: int) -> float:
    """Return a percentile, interpolated between the values (inclusive method)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def _latency_row(name: str, values: list[float], reference: list[float] | None) -> str:
    """Format one latency row, with its p95 ratio to the reference's."""
    ratio = "" if reference is None else f"{_pct(values, 95) / _pct(reference, 95):.4f}"
    return (
        f"| {name:<50} | {len(values):>5} | {_pct(values, 50):>8.3f} | {_pct(values, 95):>8.3f}"
        f" | {max(values):>8.3f} | {ratio:>9} |"
    )


def _row(name: str, short: float, long: float) -> str:
    """Format one row of the memory table."""
    return f"| {name:<50} | {short:>12.1f} | {long:>13.1f} |"


def _print_memory(short: ChildFigures, long: ChildFigures, calls: int, captures: int) -> None:
    """Print the memory table of both recorders."""
    print(f"| {'recorder process':<50} | pre-roll 5 s | pre-roll 30 s |")
    print(f"| {'-' * 50} | ------------ | ------------- |")
    print(_row("RSS just before start() (MiB)", short.rss_before / MIB, long.rss_before / MIB))
    for name, short_rss, long_rss in (
        ("growth after warm-up, pre-roll full (MiB)", short.rss_warm, long.rss_warm),
        (f"growth after {calls} snapshot calls (MiB)", short.rss_end, long.rss_end),
        (f"… then after {captures} ring pictures (MiB)", short.rss_captured, long.rss_captured),
        ("growth at peak, VmHWM (MiB)", short.rss_peak, long.rss_peak),
    ):
        grown = (short_rss - short.rss_before) / MIB, (long_rss - long.rss_before) / MIB
        print(_row(name, *grown))
    print(
        _row(
            "pre-roll buffer, written out as a clip (MiB)",
            short.clip_bytes / MIB,
            long.clip_bytes / MIB,
        )
    )
    print(_row("… its length (s)", short.clip_seconds, long.clip_seconds))
    print(
        _row(
            "… the stream's measured rate (Mbit/s)",
            short.clip_bytes * 8 / short.clip_seconds / 1e6,
            long.clip_bytes * 8 / long.clip_seconds / 1e6,
        )
    )


async def main(
    calls: int, captures: int, spread: float = SPREAD
) -> tuple[ChildFigures, ChildFigures, list[float]]:
    """Run both recorders and the reference, then print the tables."""
    password = secrets.token_hex(8)
    with tempfile.TemporaryFile() as log:
        async with _doorbell(password, log) as (base, rtsp):
            plan = Plan(calls, spread, f"{base}/cgi-bin/snapshot.cgi?channel=1", password)
            short = await asyncio.to_thread(_Run(rtsp, 5.0, plan, captures).figures)
            long_run = _Run(rtsp, 30.0, plan, captures)
            # While the second recorder warms up: one recorder ingesting, as for the first.
            reference = await _device_snapshots(plan)
            long = await asyncio.to_thread(long_run.figures)
    print(
        f"Virtual doorbell {WIDTH}x{HEIGHT} at {FPS} fps, nominal {BITRATE / 1e6:g} Mbit/s, "
        f"a keyframe every {GOP:g} s; the Recorder's pre-roll buffer has no public size, so "
        "it is written out as a clip (post-roll 0) and measured there."
    )
    _print_memory(short, long, calls, captures)
    print()
    print(f"| {'snapshot latency':<50} | calls | p50 (ms) | p95 (ms) | max (ms) | p95 ratio |")
    print(f"| {'-' * 50} | ----- | -------- | -------- | -------- | --------- |")
    print(_latency_row("device snapshot.cgi over HTTP, digest auth (ref.)", reference, None))
    runs = {"5 s": short, "30 s": long}
    for name, run in runs.items():
        every = [*run.cached_ms, *run.decoded_ms]
        print(_latency_row(f"latest_jpeg(), every call, pre-roll {name}", every, reference))
    cached = [value for run in runs.values() for value in run.cached_ms]
    # Each process's first decode also sets up the decoder and JPEG libraries.
    cold = [run.decoded_ms[0] for run in runs.values()]
    decoded = [value for run in runs.values() for value in run.decoded_ms[1:]]
    print(_latency_row("latest_jpeg() from the cache, both", cached, reference))
    print(_latency_row("latest_jpeg() decoding a new keyframe, both", decoded, reference))
    print(_latency_row("latest_jpeg() first call of each process (cold)", cold, reference))
    paired = [value for run in runs.values() for value in run.paired_ms[1:]]
    print(_latency_row("device snapshot just after each decoding (ref.)", paired, None))
    print(_latency_row("latest_jpeg() decoding, against those pairs", decoded, paired))
    captured = [value for run in runs.values() for value in run.captured_ms]
    print(_latency_row("capture(): ring picture answered (no ref.)", captured, None))
    p95 = max(_pct([*run.cached_ms, *run.decoded_ms], 95) for run in runs.values())
    verdict = "met" if p95 < GOAL_MS else "NOT met"
    print(f"goal: latest_jpeg() p95 well under {GOAL_MS:.0f} ms — {verdict} (worst {p95:.3f} ms)")
    decoding, device = _pct(decoded, 95), _pct(paired, 95)
    verdict = "met" if decoding <= device else "NOT met"
    print(
        f"goal: decoding p95 ≤ the device's snapshot p95 at the same moments — {verdict} "
        f"({decoding:.3f} ms vs {device:.3f} ms; spread over the run: {_pct(reference, 95):.3f})"
    )
    return short, long, reference


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--spread", type=float, default=SPREAD)
    parser.add_argument("--captures", type=int, default=CAPTURES)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.captures, args.spread))
