"""Clip library at scale: start-up, a retention sweep and queries with N clips indexed.

    python -m bench.library_scale [--clips 100000]

Builds a storage root holding N clips of two doorbells, one clip every 75 s (about 1,150 a
day): paths reserved by `Library.clip_paths`, sidecars written by `layout.write_sidecar` and
rows by `database.insert`, exactly as the library lays them out, with tiny placeholder videos
and thumbnails (the library reads no video that has a sidecar). It then times
`Library.open()` with the index present (the first open after the build, then warm),
`apply_retention` deleting the oldest 1 % by age, a sweep with nothing to delete (what runs
after every clip and every ten minutes), and `totals()` / `clips(day=...)`.

References in the same run: everything again at N/100 clips (the growth column), and the
floors at N: a bare `os.scandir` walk of the root for start-up; for retention, unlinking as
many files as the sweep deletes, made before the clips in folders as full as theirs; a bare
`SELECT COUNT(*)` for the queries. The build is written back (`os.sync()`) before timing,
as a library recorded over weeks would be.
Goal: start-up and the retention sweep under 1 s each at 100,000 clips.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import os
from pathlib import Path
import statistics
import tempfile
import time

from custom_components.local_doorbell.recording.archive.database import DB_NAME, insert, open_index
from custom_components.local_doorbell.recording.archive.layout import Clip, write_sidecar
from custom_components.local_doorbell.recording.archive.library import Library
from custom_components.local_doorbell.recording.archive.retention import (
    RetentionPolicy,
    apply_retention,
)

DEVICES = ("BENCH0001", "BENCH0002")
SPACING = timedelta(seconds=75)
# The files of one device's day folder: three per clip.
FOLDER_FILES = 3 * (timedelta(days=1) // SPACING) // len(DEVICES)
PROTECT_EVERY = 500  # every 500th clip is protected
LENGTH = timedelta(seconds=20)
FIRST = datetime(2026, 1, 1, tzinfo=UTC)
VIDEO = b"\x00\x00\x00\x18ftypisom placeholder"
JPEG = b"\xff\xd8\xff\xe0 placeholder \xff\xd9"
MAX_AGE = timedelta(days=30)
REPEATS = 5
GOAL = 1.0  # seconds, at 100,000 clips


def build(root: Path, count: int) -> None:
    """Lay out `count` clips under `root` and index them, as recorded clips would be."""
    library = Library(root)
    library.open()
    clips: list[Clip] = []
    try:
        for number in range(count):
            device = DEVICES[number % len(DEVICES)]
            start = FIRST + number * SPACING
            trigger = "ring" if number % 3 else "motion"
            mp4, jpg = library.clip_paths(device, trigger, start)
            mp4.write_bytes(VIDEO)
            jpg.write_bytes(JPEG)
            clip = Clip(
                id=mp4.stem,
                device=device,
                trigger=trigger,
                start=start,
                end=start + LENGTH,
                duration=LENGTH.total_seconds(),
                size=len(VIDEO),
                path=mp4.relative_to(library.root).as_posix(),
                thumbnail=jpg.relative_to(library.root).as_posix(),
                protected=number % PROTECT_EVERY == 0,
            )
            write_sidecar(mp4.with_suffix(".json"), clip)
            clips.append(clip)
    finally:
        library.close()
    with closing(open_index(root / DB_NAME)) as db, db:
        for clip in clips:
            insert(db, clip)


def timed(action: Callable[[], object]) -> float:
    """Return how long one call takes, in milliseconds."""
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def median_ms(action: Callable[[], object], repeats: int = REPEATS) -> float:
    """Return the median of several timed calls, in milliseconds."""
    return statistics.median(timed(action) for _ in range(repeats))


def walk(root: Path) -> int:
    """List every entry of the device and day folders with os.scandir; return the count."""
    entries = 0
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as listing:
            for entry in listing:
                entries += 1
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
    return entries


def spare_files(folder: Path, files: int) -> list[Path]:
    """Create placeholder files in folders as full as a day folder, for the unlink floor."""
    paths = [folder / str(number // FOLDER_FILES) / f"{number}.bin" for number in range(files)]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(VIDEO)
    return paths


def unlink_ms(paths: list[Path]) -> float:
    """Return how long unlinking the files takes, in milliseconds."""
    start = time.perf_counter()
    for path in paths:
        path.unlink()
    return (time.perf_counter() - start) * 1000


@dataclass(slots=True)
class Figures:
    """Milliseconds for each measurement at one library size."""

    clips: int
    build_s: float
    first_open: float
    warm_open: float
    walk: float
    sweep: float
    idle_sweep: float
    unlink: float
    count: float
    totals: float
    day: float


def measure(count: int) -> Figures:
    """Build a root of `count` clips in a scratch folder and time the library on it."""
    # The cutoff falls on the clip at 1 %: every clip before it is older than MAX_AGE.
    oldest = count // 100
    swept = oldest - len(range(0, oldest, PROTECT_EVERY))
    with tempfile.TemporaryDirectory(prefix="bench-library-") as scratch:
        root = Path(scratch) / "clips"
        # Made first, as old on disk as the clips: a sweep deletes three files per clip.
        spares = spare_files(Path(scratch) / "spares", 3 * swept)
        started = time.perf_counter()
        build(root, count)
        build_s = time.perf_counter() - started
        # Written back, as the files of a library recorded over weeks would be.
        os.sync()
        library = Library(root)
        first_open = timed(library.open)
        warm_open = median_ms(library.open)
        assert library.totals()[0] == count, "the build is not what the library expects"
        walked = median_ms(lambda: walk(root))
        with closing(open_index(root / DB_NAME)) as db:
            count_ms = median_ms(lambda: db.execute("SELECT COUNT(*) FROM clips").fetchone())
        totals = median_ms(library.totals)
        day = (FIRST + count // 2 * SPACING).date()
        day_ms = median_ms(lambda: library.clips(day=day))
        now = FIRST + oldest * SPACING + MAX_AGE
        policy = RetentionPolicy(max_age=MAX_AGE, min_free_bytes=0)
        result = None

        def sweep() -> None:
            nonlocal result
            result = apply_retention(library, policy, now=now, free_bytes=lambda: 1 << 40)

        unlinked = unlink_ms(spares)
        sweep_ms = timed(sweep)
        assert result is not None
        assert len(result.deleted) == swept, result
        idle = median_ms(sweep)
        assert result.deleted == ()
        library.close()
    return Figures(
        clips=count,
        build_s=build_s,
        first_open=first_open,
        warm_open=warm_open,
        walk=walked,
        sweep=sweep_ms,
        idle_sweep=idle,
        unlink=unlinked,
        count=count_ms,
        totals=totals,
        day=day_ms,
    )


def _row(name: str, small: float, large: float, floor: float | None) -> str:
    """Format one measurement: both sizes, growth, and the ratio to the floor at N."""
    ratio = "" if floor is None else f"{large / floor:.2f}"
    growth = f"{large / small:.1f}" if small > 0 else ""
    return f"| {name:<42} | {small:>14.2f} | {large:>14.2f} | {growth:>7} | {ratio:>9} |"


def main(clips: int) -> tuple[Figures, Figures]:
    """Measure at N/100 (the reference) and at N, then print the table."""
    small = measure(max(clips // 100, 100))
    large = measure(clips)
    n, r = f"{large.clips:,} clips", f"{small.clips:,} (ref.)"
    print(f"Built {small.clips:,} clips in {small.build_s:.1f} s, {n} in {large.build_s:.1f} s")
    print(f"| {'measurement (ms)':<42} | {r:>14} | {n:>14} | growth  | vs. floor |")
    print(f"| {'-' * 42} | {'-' * 14} | {'-' * 14} | ------- | --------- |")
    print(_row("bare os.scandir walk of the root (floor)", small.walk, large.walk, None))
    print(
        _row(
            "Library.open(), first after the build", small.first_open, large.first_open, large.walk
        )
    )
    print(_row("Library.open(), warm (median of 5)", small.warm_open, large.warm_open, large.walk))
    print(_row("bare unlink of the sweep's files (floor)", small.unlink, large.unlink, None))
    print(_row("apply_retention, oldest 1 % by age", small.sweep, large.sweep, large.unlink))
    print(_row("apply_retention, nothing to delete", small.idle_sweep, large.idle_sweep, None))
    print(_row("bare SELECT COUNT(*) (floor)", small.count, large.count, None))
    print(_row("totals()", small.totals, large.totals, large.count))
    print(_row("clips(day=...), one day (≤ 1,152 clips)", small.day, large.day, large.count))
    worst = max(large.first_open, large.warm_open, large.sweep) / 1000
    verdict = "met" if worst < GOAL else "NOT met"
    print(
        f"goal: start-up and retention sweep < {GOAL:.0f} s at 100,000 clips — {verdict} at "
        f"{large.clips:,} (open {large.warm_open / 1000:.3f} s warm, "
        f"{large.first_open / 1000:.3f} s first; sweep {large.sweep / 1000:.3f} s)"
    )
    return small, large


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=100_000)
    args = parser.parse_args()
    main(args.clips)
