"""CPU of recording as a doorbell records: our recorders against FFmpeg's segmenting copy.

    python -m bench.recording_cpu [--seconds 40] [--scenarios idle,fresh,primed,4,8]

(a scenario named twice is measured twice, in turn with the others: its spread is the noise).

Starts a virtual doorbell as a separate process (1080p15 H.264, 2 Mbit/s constant bit rate,
a keyframe every 2 s; the rate it really sends is measured with ffprobe and printed) and,
for each scenario, records its main stream at the same time with

- ours: N `Recorder`s (pre-roll 5 s, post-roll 10 s) in one child process, and
- the reference: N FFmpeg processes as Frigate records,
  `ffmpeg -rtsp_transport tcp -i <url> -c copy -f segment -segment_time 10
  -reset_timestamps 1 <dir>/%03d.mp4`.

and, as a floor, N threads of PyAV that only demux the stream as our ingest opens it (what
any recorder built on PyAV pays before it does anything). All are measured from their CPU
clocks over the same `--seconds`, after a warm-up. In the
triggered scenarios each recorder is triggered three times in the measured window, spaced so
that each 5 s + 10 s clip (thumbnail included) is finished inside it. Scenarios:

- idle: one doorbell, pre-roll only, no trigger;
- fresh: one doorbell, triggered; the process has not recorded a clip before (its one-off
  costs fall in the window, except what a recorder pays when it connects);
- primed: one doorbell, triggered, after one clip was recorded before the window;
- 4, 8: that many doorbells in one process, primed and triggered, against as many FFmpegs.

Also measured: trigger → clip file opened, and post-roll's end → clip handed over.
Goals: triggered ≤ 1.15 times FFmpeg primed and ≤ 1.3 fresh; 8 doorbells ≤ 1.2 and < 5 % of
one core; trigger → file opened ≤ 100 ms.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
from datetime import datetime
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

import av

from custom_components.local_doorbell.recording.capture.clip import ClipResult
from custom_components.local_doorbell.recording.capture.ingest import Ingest
from custom_components.local_doorbell.recording.capture.recorder import Recorder

from ._common import cpu_seconds, doorbell, ffmpeg_copy

WARM_UP = 5.0  # seconds for every recorder to connect and settle before measuring
PRE_ROLL, POST_ROLL = 5.0, 10.0
TRIGGERS = 3
STAGGER = 0.7  # seconds between the same trigger on different doorbells
PROBE = 10.0  # seconds of the stream ffprobe reads to tell its real rate
GOAL_PRIMED, GOAL_FRESH, GOAL_MANY, GOAL_CORE, GOAL_OPEN_MS = 1.15, 1.3, 1.2, 5.0, 100.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """What one measurement records."""

    name: str
    doorbells: int
    triggered: bool
    primed: bool


SCENARIOS = {
    "idle": Scenario("pre-roll only, no trigger", 1, triggered=False, primed=True),
    "fresh": Scenario("3 clips, fresh process", 1, triggered=True, primed=False),
    "primed": Scenario("3 clips, primed", 1, triggered=True, primed=True),
    "4": Scenario("4 doorbells, 3 clips each, primed", 4, triggered=True, primed=True),
    "8": Scenario("8 doorbells, 3 clips each, primed", 8, triggered=True, primed=True),
}


def trigger_offsets(seconds: float, doorbells: int) -> list[float]:
    """Return when (seconds into the window) to trigger: every clip ends inside it."""
    last_start = (doorbells - 1) * STAGGER
    spacing = (seconds - 2.0 - POST_ROLL - last_start) / (TRIGGERS - 1)
    if spacing <= POST_ROLL + 0.5:  # else a trigger would extend the clip before it
        raise SystemExit(f"--seconds is too short for {TRIGGERS} separate clips")
    return [1.0 + number * spacing for number in range(TRIGGERS)]


# --- the child: N recorders in one process ------------------------------------------------


class _Doorbell:
    """One recorder and what its clips took."""

    def __init__(self, url: str, folder: Path) -> None:
        self.folder = folder
        self.lock = threading.Lock()
        self.triggers: list[float] = []  # time.time() of each trigger
        self.opened: list[float] = []  # when each clip's file was asked for
        self.closed: list[tuple[float, ClipResult]] = []  # when each clip was handed over
        self.recorder = Recorder(
            url,
            clip_paths=self._paths,
            on_clip=self._clip,
            pre_roll=PRE_ROLL,
            post_roll=POST_ROLL,
        )

    def _paths(self, trigger: str, start: datetime) -> tuple[Path, Path]:
        with self.lock:
            self.opened.append(time.time())
            number = len(self.opened)
        return self.folder / f"{number:03d}.mp4", self.folder / f"{number:03d}.jpg"

    def _clip(self, result: ClipResult) -> None:
        with self.lock:
            self.closed.append((time.time(), result))

    def trigger(self) -> None:
        self.triggers.append(time.time())
        self.recorder.trigger("bench")

    def wait_clips(self, count: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while len(self.closed) < count:
            if time.monotonic() > deadline:
                raise TimeoutError("a clip was not finished")
            time.sleep(0.05)


def _child(url: str, folder: Path, seconds: float, doorbells: int, primed: bool) -> None:
    """Record until SIGTERM: READY when warm, triggers from GO on, then a JSON report."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: done.set())
    recorders = [_Doorbell(url, folder / f"doorbell-{n}") for n in range(doorbells)]
    for one in recorders:
        one.recorder.start()
    while not all(one.recorder.connected for one in recorders):
        time.sleep(0.05)
    time.sleep(PRE_ROLL)
    if primed:
        for one in recorders:
            one.trigger()
        for one in recorders:
            one.wait_clips(1, POST_ROLL + 10)
    print("READY", flush=True)
    if sys.stdin.readline().strip() == "GO":
        go = time.monotonic()
        plan = sorted(
            (offset + number * STAGGER, number)
            for offset in (trigger_offsets(seconds, doorbells) if seconds else [])
            for number in range(doorbells)
        )
        for at, number in plan:
            if done.wait(max(0.0, go + at - time.monotonic())):
                break
            recorders[number].trigger()
    done.wait()
    for one in recorders:
        one.recorder.stop()
    skip = 1 if primed else 0  # the priming clip, recorded before the window
    report = {
        "open_ms": [
            (opened - triggered) * 1000
            for one in recorders
            for opened, triggered in zip(one.opened[skip:], one.triggers[skip:], strict=False)
        ],
        "close_ms": [
            (closed - (triggered + POST_ROLL)) * 1000
            for one in recorders
            for (closed, _), triggered in zip(one.closed[skip:], one.triggers[skip:], strict=False)
        ],
        "clips": sum(len(one.closed) - skip for one in recorders),
        "thumbnails": sum(
            result.thumbnail is not None for one in recorders for _, result in one.closed[skip:]
        ),
        "triggers": sum(len(one.triggers) - skip for one in recorders),
    }
    print(json.dumps(report), flush=True)


def _demux(url: str, doorbells: int) -> None:
    """Child: demux the stream in `doorbells` threads, as the ingest opens it, until killed."""

    def read() -> None:
        with av.open(url, options=Ingest._options(1.0)) as container:
            streams = [*container.streams.video[:1], *container.streams.audio[:1]]
            for _ in container.demux(streams):
                pass

    threads = [threading.Thread(target=read, daemon=True) for _ in range(doorbells)]
    for thread in threads:
        thread.start()
    threads[0].join()


# --- the parent -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measured:
    """One scenario's figures."""

    scenario: Scenario
    ours: float  # CPU seconds in the window
    ffmpeg: float  # CPU seconds of all FFmpeg processes in the window
    floor: float  # CPU seconds of the process that only demuxes
    report: dict[str, list[float] | int]


@contextlib.contextmanager
def _process(command: list[str], stdin: int) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(command, stdin=stdin, stdout=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT if "ffmpeg" in command[0] else signal.SIGTERM)
        process.wait(30)


def measure(url: str, scenario: Scenario, seconds: float, scratch: Path) -> Measured:
    """Record the stream both ways for `seconds`; return both CPU times and our latencies."""
    child = [sys.executable, "-m", "bench.recording_cpu", "--child", url, str(scratch / "ours")]
    child += ["--seconds", str(seconds if scenario.triggered else 0)]
    child += ["--doorbells", str(scenario.doorbells)]
    child += ["--primed"] if scenario.primed else []
    floor = [sys.executable, "-m", "bench.recording_cpu", "--demux", url]
    floor += ["--doorbells", str(scenario.doorbells)]
    with contextlib.ExitStack() as stack:
        ours = stack.enter_context(_process(child, stdin=subprocess.PIPE))
        demux = stack.enter_context(_process(floor, stdin=subprocess.DEVNULL))
        theirs = [
            stack.enter_context(
                _process(ffmpeg_copy(url, scratch / f"ffmpeg-{n}"), stdin=subprocess.DEVNULL)
            )
            for n in range(scenario.doorbells)
        ]
        assert ours.stdin is not None
        assert ours.stdout is not None
        if ours.stdout.readline().strip() != "READY":
            raise RuntimeError("the recorder did not start")
        time.sleep(WARM_UP)
        pids = ([ours.pid], [p.pid for p in theirs], [demux.pid])
        start = [sum(map(cpu_seconds, group)) for group in pids]
        ours.stdin.write("GO\n")
        ours.stdin.flush()
        time.sleep(seconds)
        end = [sum(map(cpu_seconds, group)) for group in pids]
        ours.send_signal(signal.SIGTERM)
        report = json.loads(ours.stdout.readline())
    ours_cpu, ffmpeg_cpu, floor_cpu = (
        after - before for before, after in zip(start, end, strict=True)
    )
    return Measured(scenario, ours_cpu, ffmpeg_cpu, floor_cpu, report)


def stream_rate(url: str) -> tuple[float, float]:
    """Return the stream's measured Mbit/s and keyframe interval (s), read with ffprobe."""
    command = ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0"]
    command += ["-read_intervals", f"%+{PROBE:g}", "-show_entries", "packet=size,dts_time,flags"]
    command += ["-of", "csv=p=0", url]
    lines = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
    packets = [
        (float(time), int(size), "K" in flags)
        for time, size, flags in map(_fields, lines)
        if time != "N/A"  # before the stream's clock is known
    ]
    keys = [time for time, _, key in packets if key]
    if len(keys) < 2:
        raise RuntimeError("ffprobe saw fewer than two keyframes")
    # Whole groups of pictures, keyframe to keyframe: the rate over GOPs, not a part of one.
    inside = [size for time, size, _ in packets if keys[0] <= time < keys[-1]]
    span = keys[-1] - keys[0]
    return sum(inside) * 8 / span / 1e6, span / (len(keys) - 1)


def _fields(line: str) -> tuple[str, str, str]:
    time, size, flags = line.split(",")[:3]
    return time, size, flags


def _ms(values: object) -> str:
    if not isinstance(values, list) or not values:
        return "-"
    return f"{statistics.median(values):.0f} / {max(values):.0f}"


def _row(measured: Measured, seconds: float) -> str:
    report = measured.report
    ratio = measured.ours / measured.ffmpeg if measured.ffmpeg else float("inf")
    clips = f"{report['clips']}/{report['triggers']} ({report['thumbnails']})"
    return (
        f"| {measured.scenario.name:<34} | {measured.ffmpeg / seconds * 60:>8.3f}"
        f" | {measured.floor / seconds * 60:>8.3f} | {measured.ours / seconds * 60:>8.3f}"
        f" | {ratio:>5.2f} | {measured.ours / measured.floor:>5.2f}"
        f" | {measured.ours / seconds * 100:>6.2f} | {_ms(report['open_ms']):>11}"
        f" | {_ms(report['close_ms']):>11} | {clips:>12} |"
    )


def main(seconds: float, names: list[str]) -> list[Measured]:
    """Measure the scenarios against one virtual doorbell; print the table and the goals."""
    results = []
    with tempfile.TemporaryDirectory() as scratch, doorbell() as device:
        url = device.rtsp_url()
        rate, gop = stream_rate(url)
        for number, name in enumerate(names):  # a scenario may be named more than once
            folder = Path(scratch, f"{number}-{name}")
            results.append(measure(url, SCENARIOS[name], seconds, folder))
    load = os.getloadavg()
    print(
        f"Virtual doorbell 1080p15 H.264, measured {rate:.2f} Mbit/s, a keyframe every "
        f"{gop:.1f} s; {seconds:g} s measured per scenario after a {WARM_UP:g} s warm-up; "
        f"load average at the end {load[0]:.2f} / {load[1]:.2f} (1 / 5 min)"
    )
    print(
        "| scenario                           | FFmpeg s/min (ref.) | PyAV demux s/min |"
        " ours s/min | ours/FFmpeg | ours/demux | % core | trigger → open ms p50/max"
        " | end → closed ms p50/max | clips (thumbnails) |"
    )
    print(
        "| ---------------------------------- | -------- | -------- | -------- | ----- | -----"
        " | ------ | ----------- | ----------- | ------------ |"
    )
    for measured in results:
        print(_row(measured, seconds))
    _goals(results, seconds)
    return results


def _goals(results: list[Measured], seconds: float) -> None:
    for measured in results:
        scenario, ratio = measured.scenario, measured.ours / measured.ffmpeg
        core = measured.ours / seconds * 100
        if not scenario.triggered:
            continue
        goal = (
            GOAL_MANY if scenario.doorbells > 1 else GOAL_PRIMED if scenario.primed else GOAL_FRESH
        )
        met = ratio <= goal and (scenario.doorbells < 8 or core < GOAL_CORE)
        opened = measured.report["open_ms"]
        slowest = max(opened) if isinstance(opened, list) and opened else float("inf")
        print(
            f"goal {scenario.name}: ratio ≤ {goal}"
            + (f" and < {GOAL_CORE:g} % of a core" if scenario.doorbells >= 8 else "")
            + f" — {'met' if met else 'NOT met'} ({ratio:.2f}, {core:.2f} %);"
            f" trigger → file ≤ {GOAL_OPEN_MS:g} ms —"
            f" {'met' if slowest <= GOAL_OPEN_MS else 'NOT met'} (max {slowest:.0f} ms)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--child", nargs=2, metavar=("URL", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--doorbells", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--primed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--demux", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.demux:
        _demux(args.demux, args.doorbells)
    elif args.child:
        _child(args.child[0], Path(args.child[1]), args.seconds, args.doorbells, args.primed)
    else:
        main(args.seconds, args.scenarios.split(","))
