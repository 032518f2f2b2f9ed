"""Helpers shared by the benchmarks: a virtual doorbell in its own process, CPU clocks."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
from pathlib import Path
import shutil
import socket
import statistics
import subprocess
import sys
import time

from custom_components.local_doorbell.devices.dahua import DahuaDoorbell

PASSWORD = "bench-password"


def no_ring_debounce() -> None:
    """Let every press ring: the driver folds repeats within 3 s, a person's pace, into one."""
    kwdefaults = DahuaDoorbell.__init__.__kwdefaults__
    assert kwdefaults is not None
    kwdefaults["ring_debounce"] = 0.0


def print_latency_table(
    rows: list[tuple[str, list[float]]], *, count: str = "presses", digits: int = 2
) -> None:
    """Print p50/p99 in ms of each row, the first being the reference the others are held to."""
    width = max(len(name) for name, _ in rows)
    reference = statistics.quantiles(rows[0][1], n=100)[98]
    print(f"| {'measurement':<{width}} | {count} | p50 (ms) | p99 (ms) | p99 ratio |")
    print(f"| {'-' * width} | {'-' * len(count)} | -------- | -------- | --------- |")
    for index, (name, values) in enumerate(rows):
        p99 = statistics.quantiles(values, n=100)[98]
        ratio = f"{p99 / reference:.2f}" if index else ""
        p50 = statistics.median(values)
        print(
            f"| {name:<{width}} | {len(values):>{len(count)}} | {p50:>8.{digits}f} "
            f"| {p99:>8.{digits}f} | {ratio:>9} |"
        )


def free_port() -> int:
    """Return a loopback TCP port that is free now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """Return the CPU seconds a process has used, all its threads included, to the nanosecond.

    Linux's per-process CPU clock (what clock_getcpuclockid returns): /proc's tick counts
    are 10 ms coarse, several per cent of what a recorder uses in a minute.
    """
    return time.clock_gettime((~pid << 3) | 2)  # MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)


def ffmpeg_copy(url: str, folder: Path) -> list[str]:
    """Return the reference's command line: what Frigate runs to record a camera."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("ffmpeg is missing: install it with `apt-get install ffmpeg`")
    folder.mkdir(parents=True)
    return [
        *(ffmpeg, "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url),
        *("-c", "copy", "-f", "segment", "-segment_time", "10", "-reset_timestamps", "1"),
        str(folder / "%03d.mp4"),
    ]


@dataclass(frozen=True, slots=True)
class Doorbell:
    """A running `python -m virtual_doorbell` process."""

    process: subprocess.Popen[bytes]
    http_port: int
    rtsp_port: int

    def rtsp_url(self, subtype: int = 0) -> str:
        """Return the RTSP URL of the main (0) or sub (1) stream, with credentials."""
        path = f"/cam/realmonitor?channel=1&subtype={subtype}"
        return f"rtsp://admin:{PASSWORD}@127.0.0.1:{self.rtsp_port}{path}"


@contextlib.contextmanager
def doorbell(*arguments: str, log: Path | None = None) -> Iterator[Doorbell]:
    """Run a virtual doorbell (1080p15, 2 Mbit/s unless told) on free loopback ports."""
    http_port, rtsp_port = free_port(), free_port()
    with contextlib.ExitStack() as stack:
        output = stack.enter_context(log.open("wb")) if log else subprocess.DEVNULL
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "virtual_doorbell",
                "--password",
                PASSWORD,
                "--http-port",
                str(http_port),
                "--rtsp-port",
                str(rtsp_port),
                *arguments,
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_port(rtsp_port, process)
            yield Doorbell(process, http_port, rtsp_port)
        finally:
            process.terminate()
            process.wait(10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Wait until the port accepts connections; fail if the process dies first."""
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the virtual doorbell did not start")
        time.sleep(0.1)
