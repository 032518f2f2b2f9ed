"""CPU per minute of recorded video: our recorder against FFmpeg's stream copy.

    python -m bench.recording_cpu [--seconds 60]

Starts a virtual doorbell as a separate process (1080p15, 2 Mbit/s, a keyframe every 2 s)
and records its main stream, at the same time, with (a) a `Recorder` in a child process,
recording one clip for the whole run, and (b) the reference, what Frigate runs:
`ffmpeg -rtsp_transport tcp -i <url> -c copy -f segment -segment_time 10 <dir>/%03d.mp4`.
Both are measured from their /proc CPU clocks over the same `--seconds`, after a warm-up.
Goal: ours at most 1.2 times FFmpeg's, and under 2 % of one core.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from custom_components.local_doorbell.recording.clip import ClipResult
from custom_components.local_doorbell.recording.recorder import Recorder

from ._common import cpu_seconds, doorbell

WARM_UP = 5.0  # seconds for both recorders to connect and settle before measuring
GOAL_RATIO = 1.2
GOAL_CORE = 2.0  # per cent of one core


def _record(url: str, folder: Path, seconds: float) -> None:
    """Child: record one clip until SIGTERM; print READY when recording, then the clip."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: done.set())
    results: list[ClipResult] = []
    recorder = Recorder(
        url,
        clip_paths=lambda trigger, start: (folder / "clip.mp4", folder / "clip.jpg"),
        on_clip=results.append,
        pre_roll=5.0,
        post_roll=seconds + 3600,
        max_length=seconds + 3600,
    )
    recorder.start()
    while not recorder.connected:
        time.sleep(0.1)
    recorder.trigger("bench")
    print("READY", flush=True)
    done.wait()
    recorder.stop()
    for result in results:
        print(f"CLIP {result.duration:.1f} {result.size}", flush=True)


@dataclass(frozen=True, slots=True)
class Measured:
    """One recorder's CPU over the measured interval, and what it wrote."""

    cpu: float  # seconds
    written: int  # bytes on disk at the end


@contextlib.contextmanager
def _process(command: list[str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT if "ffmpeg" in command[0] else signal.SIGTERM)
        process.wait(20)


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*.mp4"))


def measure(seconds: float) -> tuple[Measured, Measured]:
    """Record the same stream both ways for `seconds`; return ours and FFmpeg's figures."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("ffmpeg is missing: install it with `apt-get install ffmpeg`")
    with tempfile.TemporaryDirectory() as scratch, doorbell() as device:
        ours_dir, theirs_dir = Path(scratch, "ours"), Path(scratch, "ffmpeg")
        ours_dir.mkdir()
        theirs_dir.mkdir()
        url = device.rtsp_url()
        child = [sys.executable, "-m", "bench.recording_cpu", "--child", url, str(ours_dir)]
        reference = [ffmpeg, "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp"]
        reference += ["-i", url, "-c", "copy", "-f", "segment", "-segment_time", "10"]
        reference += [str(theirs_dir / "%03d.mp4")]
        with _process([*child, "--seconds", str(seconds)]) as ours, _process(reference) as theirs:
            assert ours.stdout is not None
            if ours.stdout.readline().strip() != "READY":
                raise RuntimeError("the recorder did not start")
            time.sleep(WARM_UP)
            start = (cpu_seconds(ours.pid), cpu_seconds(theirs.pid))
            time.sleep(seconds)
            end = (cpu_seconds(ours.pid), cpu_seconds(theirs.pid))
        print(ours.stdout.read().strip() or "no clip reported", file=sys.stderr)
        return (
            Measured(end[0] - start[0], _size(ours_dir)),
            Measured(end[1] - start[1], _size(theirs_dir)),
        )


def _row(name: str, measured: Measured, seconds: float, reference: Measured | None) -> str:
    per_minute = measured.cpu / seconds * 60
    core = measured.cpu / seconds * 100
    ratio = f"{measured.cpu / reference.cpu:.2f}" if reference and reference.cpu else ""
    written = measured.written / 1e6
    return f"| {name:<40} | {per_minute:>9.3f} | {core:>9.2f} | {ratio:>9} | {written:>7.1f} |"


def main(seconds: float) -> tuple[Measured, Measured]:
    """Run the measurement and print the table."""
    ours, theirs = measure(seconds)
    print(f"1080p15 H.264 at 2 Mbit/s, {seconds:g} s measured after a {WARM_UP:g} s warm-up")
    print(
        "| recorder                                 | CPU s/min | % of core | ours/ref. |      MB |"
    )
    print(
        "| ---------------------------------------- | --------- | --------- | --------- | ------- |"
    )
    print(_row("ffmpeg -c copy -f segment (reference)", theirs, seconds, None))
    print(_row("Recorder (PyAV demux, fragmented MP4)", ours, seconds, theirs))
    ratio = ours.cpu / theirs.cpu if theirs.cpu else float("inf")
    core = ours.cpu / seconds * 100
    met = ratio <= GOAL_RATIO and core < GOAL_CORE
    print(
        f"goal: ratio ≤ {GOAL_RATIO} and < {GOAL_CORE:g} % of a core — "
        f"{'met' if met else 'NOT met'} ({ratio:.2f}, {core:.2f} %)"
    )
    return ours, theirs


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--child", nargs=2, metavar=("URL", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _record(args.child[0], Path(args.child[1]), args.seconds)
    else:
        main(args.seconds)
