"""Moving a library: every clip arrives whole, with its protection, or nothing moves."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from custom_components.local_doorbell.recording.archive import relocate as relocate_module
from custom_components.local_doorbell.recording.archive.library import Library
from custom_components.local_doorbell.recording.archive.relocate import (
    RelocateError,
    copy_file,
    relocate,
)

from .media import JPEG, record_clip

ROOT_FILES = ("index.sqlite3", "audit.sqlite3")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """Return a library's root with two clips of two doorbells, one protected, and extras."""
    library = Library(tmp_path / "media" / "local_doorbell")
    library.open()
    record_clip(library, "AB12")
    library.set_protected(record_clip(library, "ZX-9").id, True)
    library.close()
    root = library.root
    (root / "audit.sqlite3").write_bytes(b"the history")
    (root / "index.sqlite3.corrupt-20261127T100000000000Z").write_bytes(b"kept aside")
    (root / "AB12" / "2026-11-27" / "notes.txt").write_text("not ours")
    (root / "holiday.mp4").write_bytes(b"not ours either")
    for folder in ("not a device", "AB12/holiday"):  # named like no device, like no day
        (root / folder).mkdir()
        (root / folder / "20261127T100000Z-ring-abcd.mp4").write_bytes(b"not ours at all")
    return root


def snapshot(root: Path) -> dict[str, str]:
    """Return the SHA-256 of every file under a folder, by relative path."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def ours(files: dict[str, str]) -> dict[str, str]:
    """Return the files a move takes along: the library's own."""
    return {
        name: digest
        for name, digest in files.items()
        if "not" not in name and "holiday" not in name
    }


def no_links(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make hard links fail as they do across file systems (or bind mounts)."""

    def link(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", link)


@pytest.mark.parametrize("across", [False, True])
def test_a_library_moves_whole(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, across: bool
) -> None:
    if across:
        no_links(monkeypatch)
    before = snapshot(source)
    target = tmp_path / "config" / "local_doorbell" / "recordings"
    assert relocate(source, target, root_files=ROOT_FILES) == (len(ours(before)), 0)
    assert snapshot(target) == ours(before)
    # What is not the library's stays, and so do the folders that hold it.
    assert snapshot(source) == {k: v for k, v in before.items() if k not in ours(before)}
    assert not (source / "ZX-9").exists()
    library = Library(target)
    library.open()
    try:
        assert {clip.device: clip.protected for clip in library.clips()} == {
            "AB12": False,
            "ZX-9": True,
        }
        assert all(library.path_of(clip).is_file() for clip in library.clips())
    finally:
        library.close()


def test_a_copy_that_differs_moves_nothing(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_links(monkeypatch)
    before = snapshot(source)
    real = relocate_module.copy_file

    def flipping(src: Path, dst: Path) -> str:
        digest = real(src, dst)
        if dst.suffix == ".mp4":
            with dst.open("r+b") as file:  # a byte changed on its way to the disk
                file.seek(100)
                byte = file.read(1)[0]
                file.seek(100)
                file.write(bytes([byte ^ 0xFF]))
        return digest

    monkeypatch.setattr(relocate_module, "copy_file", flipping)
    target = tmp_path / "target"
    with pytest.raises(RelocateError, match="differs"):
        relocate(source, target, root_files=ROOT_FILES)
    assert snapshot(source) == before
    assert snapshot(target) == {}
    assert list(target.iterdir()) == []


def test_no_room_for_the_copies_moves_nothing(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_links(monkeypatch)
    before = snapshot(source)
    monkeypatch.setattr(relocate_module, "free_bytes", lambda path: 1000)
    with pytest.raises(RelocateError, match="do not fit"):
        relocate(source, tmp_path / "target", root_files=ROOT_FILES)
    assert snapshot(source) == before
    assert snapshot(tmp_path / "target") == {}


def test_a_different_file_in_the_way_moves_nothing(source: Path, tmp_path: Path) -> None:
    before = snapshot(source)
    target = tmp_path / "target"
    (target / "ZX-9" / "2026-11-27").mkdir(parents=True)
    clip = next(name for name in before if name.startswith("ZX-9/") and name.endswith(".jpg"))
    (target / clip).write_bytes(b"someone else's")
    with pytest.raises(RelocateError):
        relocate(source, target, root_files=ROOT_FILES)
    assert snapshot(source) == before
    assert snapshot(target) == {clip: hashlib.sha256(b"someone else's").hexdigest()}


@pytest.mark.parametrize("across", [False, True])
def test_files_left_by_an_interrupted_move_are_taken(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, across: bool
) -> None:
    before = snapshot(source)
    target = tmp_path / "target"
    mp4, jpg = (next(name for name in before if name.endswith(end)) for end in (".mp4", ".jpg"))
    (target / mp4).parent.mkdir(parents=True)
    (target / jpg).parent.mkdir(parents=True, exist_ok=True)
    copy_file(source / mp4, target / mp4)
    os.link(source / jpg, target / jpg)
    if across:
        no_links(monkeypatch)
    assert relocate(source, target, root_files=ROOT_FILES) == (len(ours(before)), 0)
    assert snapshot(target) == ours(before)


def test_a_missing_folder_has_nothing_to_move(tmp_path: Path) -> None:
    assert relocate(tmp_path / "never", tmp_path / "target", root_files=ROOT_FILES) == (0, 0)
    assert not (tmp_path / "target").exists()


def test_originals_that_cannot_be_removed_are_counted(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(source)
    unlink = Path.unlink

    def stuck(path: Path, missing_ok: bool = False) -> None:
        if path.suffix == ".jpg" and path.is_relative_to(source):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", stuck)
    moved, left = relocate(source, tmp_path / "target", root_files=ROOT_FILES)
    assert (moved, left) == (len(ours(before)), 2)
    assert snapshot(tmp_path / "target") == ours(before)


def test_folders_that_overlap_are_refused(source: Path) -> None:
    with pytest.raises(RelocateError, match="overlap"):
        relocate(source, source / "inside", root_files=ROOT_FILES)
    with pytest.raises(RelocateError, match="overlap"):
        relocate(source, source.parent, root_files=ROOT_FILES)


def test_copy_file_never_overwrites_and_leaves_no_partial_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = tmp_path / "a.jpg"
    original.write_bytes(JPEG)
    taken = tmp_path / "taken.jpg"
    taken.write_bytes(b"mine")
    with pytest.raises(FileExistsError):
        copy_file(original, taken)
    assert taken.read_bytes() == b"mine"

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        copy_file(original, tmp_path / "b.jpg")
    assert sorted(os.listdir(tmp_path)) == ["a.jpg", "taken.jpg"]
