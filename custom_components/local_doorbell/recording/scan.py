"""Finding the clips under the storage root, for reconciling and rebuilding the index."""

from __future__ import annotations

from collections.abc import Set
from datetime import timedelta
from enum import StrEnum
import logging
from pathlib import Path

from .layout import (
    Clip,
    clip_id_parts,
    is_clip_id,
    is_device,
    parse_day,
    probe_duration,
    read_sidecar,
    write_sidecar,
)

_LOGGER = logging.getLogger(__name__)


class Source(StrEnum):
    """Where the description of a clip found on disk came from."""

    SIDECAR = "sidecar"
    PROBED = "probed"
    UNREADABLE = "unreadable"


def _dirs(parent: Path) -> list[Path]:
    """Return the real (not symlinked) sub-folders of a folder, sorted."""
    # A symlink could lead out of the root; the library never makes one.
    return sorted(path for path in parent.iterdir() if path.is_dir() and not path.is_symlink())


def find_clips(root: Path, busy: Set[str]) -> tuple[dict[str, tuple[str, Path]], int]:
    """Map each clip id under `root` to its device and mp4; remove leftovers of deleted clips.

    Files of `busy` clips (reserved, still being written) are left alone. Returns the clips
    and how many leftover files were removed.
    """
    found: dict[str, tuple[str, Path]] = {}
    removed = 0
    for device_dir in _dirs(root):
        if not is_device(device_dir.name):
            continue
        for day_dir in _dirs(device_dir):
            if parse_day(day_dir.name) is None:
                continue
            for file in sorted(day_dir.iterdir()):
                stem, _, suffix = file.name.partition(".")
                if stem in busy or not is_clip_id(stem) or file.is_symlink() or not file.is_file():
                    continue
                if suffix == "mp4":
                    if stem in found:
                        _LOGGER.warning("Clip %s exists twice; %s is not indexed", stem, file)
                    else:
                        found[stem] = (device_dir.name, file)
                # A sidecar half-written by a crash, or the thumbnail and sidecar of a clip
                # whose deletion was interrupted after the video was gone.
                elif suffix == "json.tmp" or (
                    suffix in {"jpg", "json"} and not file.with_name(f"{stem}.mp4").exists()
                ):
                    file.unlink()
                    removed += 1
            # Emptied by deletions; a busy clip's folder has its files, or is today's and gets
            # made again by the next clip_paths().
            if not any(day_dir.iterdir()):
                day_dir.rmdir()
    return found, removed


def describe(root: Path, device: str, mp4: Path) -> tuple[Clip, Source]:
    """Describe a clip file that has no index row, from its sidecar or by reading the video."""
    path = mp4.relative_to(root).as_posix()
    jpg = mp4.with_suffix(".jpg")
    thumbnail = jpg.relative_to(root).as_posix() if jpg.exists() else None
    sidecar = mp4.with_suffix(".json")
    clip = read_sidecar(sidecar, clip_id=mp4.stem, device=device, mp4=path, jpg=thumbnail)
    if clip is not None:
        return clip, Source.SIDECAR
    # No sidecar: the process stopped between writing the video and indexing it.
    duration = probe_duration(mp4)
    if duration is None:
        _LOGGER.warning("Clip %s cannot be read; it is kept with a duration of 0", mp4)
    start, trigger = clip_id_parts(mp4.stem)
    clip = Clip(
        id=mp4.stem,
        device=device,
        trigger=trigger,
        start=start,
        end=start + timedelta(seconds=duration or 0.0),
        duration=duration or 0.0,
        size=mp4.stat().st_size,
        path=path,
        thumbnail=thumbnail,
        protected=False,
    )
    # Written now, so that the next rebuild need not read the video again.
    write_sidecar(sidecar, clip)
    return clip, Source.PROBED if duration is not None else Source.UNREADABLE
