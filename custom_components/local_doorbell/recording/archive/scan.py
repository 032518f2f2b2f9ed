"""Finding the clips under the storage root, for reconciling and rebuilding the index."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Set
from datetime import timedelta
from enum import StrEnum
import logging
import os
from pathlib import Path

from .layout import (
    Clip,
    DamagedSidecar,
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


def _folders(parent: str) -> list[str]:
    """Return the names of a folder's real (not symlinked) sub-folders, sorted."""
    # A symlink could lead out of the root; the library never makes one.
    with os.scandir(parent) as listing:
        return sorted(entry.name for entry in listing if entry.is_dir(follow_symlinks=False))


def _files(folder: str) -> tuple[list[str], set[str]]:
    """Return the names of a folder's regular (not symlinked) files, and of all its entries."""
    # The entries' own types tell: no file is looked at on its own.
    files: list[str] = []
    names: set[str] = set()
    with os.scandir(folder) as listing:
        for entry in listing:
            names.add(entry.name)
            if entry.is_file(follow_symlinks=False):
                files.append(entry.name)
    return files, names


def find_clips(root: Path, busy: Set[str]) -> tuple[dict[str, str], int]:
    """Map each clip id under `root` to its mp4; remove leftovers of deleted clips.

    The mp4's path is relative to the root, in POSIX form as the index stores it, and starts
    with the device's folder. Files of `busy` clips (reserved, still being written) are left
    alone. Returns the clips and how many leftover files were removed. Each folder is listed
    once, and no clip file is looked at on its own.
    """
    found: dict[str, str] = {}
    removed = 0
    for relative, folder in _day_folders(root):
        files, names = _files(folder)
        emptied = 0
        for name in files:
            stem, _, suffix = name.partition(".")
            if suffix == "mp4":
                if stem in busy:
                    continue
                if not is_clip_id(stem):
                    _LOGGER.warning("Ignoring %s: not a clip", os.path.join(folder, name))
                    continue
                if stem in found:
                    path = os.path.join(folder, name)
                    _LOGGER.warning("Clip %s exists twice; %s is not indexed", stem, path)
                else:
                    found[stem] = f"{relative}/{name}"
            # A sidecar half-written by a crash, or the thumbnail and sidecar of a clip
            # whose deletion was interrupted after the video was gone.
            elif (
                suffix == "json.tmp" or (suffix in {"jpg", "json"} and f"{stem}.mp4" not in names)
            ) and (stem not in busy and is_clip_id(stem)):
                emptied += _remove(os.path.join(folder, name), os.unlink)
        removed += emptied
        # Emptied by deletions; a busy clip's folder has its files, or is today's and gets
        # made again by the next clip_paths().
        if emptied == len(names):
            _remove(folder, os.rmdir)
    return found, removed


def _day_folders(root: Path) -> Iterator[tuple[str, str]]:
    """Yield each `device/day` folder under `root`: relative in POSIX form, and its path."""
    for device in _folders(str(root)):
        if not is_device(device):
            continue
        for day in _folders(os.path.join(root, device)):
            if parse_day(day) is not None:
                yield f"{device}/{day}", os.path.join(root, device, day)


def _remove(path: str, remove: Callable[[str], None]) -> int:
    """Remove a leftover; one that cannot be removed is logged and left. Return 1 if removed."""
    try:
        remove(path)
    except OSError as err:
        _LOGGER.warning("Could not remove the leftover %s: %s", path, err)
        return 0
    return 1


def clip_files(root: Path) -> Iterator[str]:
    """Yield the files of every clip under `root` (video, thumbnail, sidecar), relative, POSIX."""
    for relative, folder in _day_folders(root):
        files, _ = _files(folder)
        for name in sorted(files):
            if is_clip_id(name.partition(".")[0]):
                yield f"{relative}/{name}"


def describe(root: Path, device: str, mp4: Path) -> tuple[Clip, Source]:
    """Describe a clip file that has no index row, from its sidecar or by reading the video."""
    path = mp4.relative_to(root).as_posix()
    jpg = mp4.with_suffix(".jpg")
    thumbnail = jpg.relative_to(root).as_posix() if jpg.exists() else None
    sidecar = mp4.with_suffix(".json")
    try:
        clip = read_sidecar(sidecar, clip_id=mp4.stem, device=device, mp4=path, jpg=thumbnail)
    except DamagedSidecar as err:
        # It may have held the owner's protection, which must never be lost: the clip comes
        # back protected, until someone unprotects it.
        _LOGGER.warning("Unreadable clip sidecar %s; the clip is kept protected", err)
        protected = True
    else:
        if clip is not None:
            return clip, Source.SIDECAR
        # No sidecar: the process stopped between writing the video and indexing it, before
        # anyone could protect the clip.
        protected = False
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
        protected=protected,
    )
    # Written now, so that the next rebuild need not read the video again.
    write_sidecar(sidecar, clip)
    return clip, Source.PROBED if duration is not None else Source.UNREADABLE
