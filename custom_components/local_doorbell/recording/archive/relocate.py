"""Moving a clip library to another folder: all of it, or nothing."""

from __future__ import annotations

from collections.abc import Iterable
import errno
import hashlib
import logging
import os
from pathlib import Path

from .scan import clip_files
from .storage import free_bytes

_LOGGER = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


class RelocateError(Exception):
    """The library could not be moved; every file is still where it was."""


def relocate(source: Path, target: Path, *, root_files: Iterable[str]) -> tuple[int, int]:
    """Move the clips under `source`, and its files named like `root_files`, into `target`.

    Each file is first placed in `target` as well: hard-linked within one file system (what a
    rename does, without the moment a file is in neither folder), or else copied, flushed and
    compared by SHA-256. Only when every file is in place are the originals removed, and the
    folders below `source` that leaves empty. A failure before that removes what was placed
    and raises RelocateError. Returns how many files were moved, and how many originals could
    not be removed (they stay, as copies).
    """
    source, target = source.resolve(), target.resolve()
    if source.is_relative_to(target) or target.is_relative_to(source):
        raise RelocateError(f"{source} and {target} overlap")
    if not source.is_dir():
        return 0, 0
    prefixes = tuple(root_files)
    names = [
        *sorted(
            entry.name
            for entry in os.scandir(source)
            if entry.is_file(follow_symlinks=False) and entry.name.startswith(prefixes)
        ),
        *clip_files(source),
    ]
    placed: list[Path] = []
    try:
        _place_all(source, target, names, placed)
    except OSError as err:
        for path in placed:
            path.unlink(missing_ok=True)
        _prune(target, [target / name for name in names])
        raise RelocateError(f"{err.filename or ''}: {err.strerror or err}") from err
    left = 0
    for name in names:
        try:
            (source / name).unlink()
        except OSError as err:
            _LOGGER.warning("Could not remove %s after moving it: %s", source / name, err)
            left += 1
    _prune(source, [source / name for name in names])
    return len(names), left


def copy_file(source: Path, target: Path) -> str:
    """Copy a file to a new one (never over one), flushed to disk; return its SHA-256.

    A copy cut short is removed.
    """
    digest = hashlib.sha256()
    with source.open("rb") as src:
        # "x" refuses an existing file, and a symlink in its place, atomically.
        dst = target.open("xb")
        try:
            with dst:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    return digest.hexdigest()


def _place_all(source: Path, target: Path, names: list[str], placed: list[Path]) -> None:
    """Link or copy each file into `target`, recording what was made; raise OSError on failure."""
    linking = True
    for name in names:
        src, dst = source / name, target / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists() and _same(src, dst):
            continue  # left by an attempt cut short; not ours to remove on failure
        if linking:
            try:
                os.link(src, dst)
            except OSError as err:
                # Another file system (or a bind mount of the same one), or one without links.
                if err.errno not in {errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK}:
                    raise
                linking = False
                _check_room(source, target, names)
            else:
                placed.append(dst)
                continue
        digest = copy_file(src, dst)
        placed.append(dst)
        if _sha256(dst) != digest:
            raise OSError(errno.EIO, "the copy differs from the original", str(dst))


def _check_room(source: Path, target: Path, names: list[str]) -> None:
    """Raise OSError when copies of the files would not fit on the target's disk."""
    needed = sum((source / name).stat().st_size for name in names)
    if needed > free_bytes(target):
        raise OSError(errno.ENOSPC, f"{needed} bytes to copy do not fit", str(target))


def _same(first: Path, second: Path) -> bool:
    """Tell whether two files hold the same bytes."""
    if os.path.samefile(first, second):
        return True
    return first.stat().st_size == second.stat().st_size and _sha256(first) == _sha256(second)


def _sha256(path: Path) -> str:
    """Return the SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _prune(root: Path, files: Iterable[Path]) -> None:
    """Remove the folders below `root` that removing `files` left empty."""
    folders = {
        parent
        for path in files
        for parent in path.parents
        if parent != root and parent.is_relative_to(root)
    }
    for folder in sorted(folders, key=lambda path: len(path.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            continue  # not empty: something else lives there
