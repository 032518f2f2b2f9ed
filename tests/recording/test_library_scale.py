"""What keeps the library fast with many clips: bulk reconcile, paged retention, batched commits."""

from __future__ import annotations

from contextlib import closing
from dataclasses import replace
from datetime import datetime, timedelta
import logging
import os
import sqlite3
from typing import Any

import pytest

from custom_components.local_doorbell.recording.archive import retention
from custom_components.local_doorbell.recording.archive.library import Clip, Library
from custom_components.local_doorbell.recording.archive.retention import (
    RetentionPolicy,
    apply_retention,
)

from .media import JPEG, T0, FakeResult

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def placeholder(library: Library, device: str, start: datetime) -> Clip:
    """Add a clip whose video is a few bytes: the library never reads one it has indexed."""
    mp4, jpg = library.clip_paths(device, "ring", start)
    mp4.write_bytes(b"video")
    jpg.write_bytes(JPEG)
    result = FakeResult(mp4, jpg, "ring", start, start + timedelta(seconds=2), 2.0, 5)
    return library.add(device, result)


def committed(library: Library) -> set[str]:
    """Return the ids in the index as another connection sees them."""
    with closing(sqlite3.connect(library.root / "index.sqlite3")) as db:
        return {clip_id for (clip_id,) in db.execute("SELECT id FROM clips")}


def test_open_lists_each_folder_once_and_looks_at_no_clip_file(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(12):
        placeholder(library, ("AB12", "ZX-9")[number % 2], T0 + number * 7 * HOUR)
    listed: list[str] = []
    looked: list[str] = []
    scandir, stat, lstat = os.scandir, os.stat, os.lstat

    def spy_scandir(path: Any) -> Any:
        listed.append(os.fspath(path))
        return scandir(path)

    def spy_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        looked.append(os.fspath(path))
        return stat(path, *args, **kwargs)

    def spy_lstat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        looked.append(os.fspath(path))
        return lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", spy_scandir)
    monkeypatch.setattr(os, "stat", spy_stat)
    monkeypatch.setattr(os, "lstat", spy_lstat)
    library.close()
    library.open()
    monkeypatch.undo()
    days = {str(path.parent) for path in library.root.glob("*/*/*.mp4")}
    assert len(days) == 8
    assert sorted(listed) == sorted(
        [str(library.root), str(library.root / "AB12"), str(library.root / "ZX-9"), *days]
    )
    assert not [path for path in looked if path.endswith((".mp4", ".jpg", ".json"))]
    assert len(library.clips()) == 12


def test_reconcile_in_one_pass(library: Library, caplog: pytest.LogCaptureFixture) -> None:
    clips = [placeholder(library, "AB12", T0 + number * 5 * HOUR) for number in range(10)]
    root = library.root
    library.close()
    for lost in clips[:2]:  # videos deleted by hand: their rows and leftovers go
        (root / lost.path).unlink()
    with closing(sqlite3.connect(root / "index.sqlite3")) as db, db:
        db.executemany("DELETE FROM clips WHERE id = ?", [(c.id,) for c in clips[2:4]])
    # A clip moved to another day folder of its device is indexed where it now lies.
    moved = clips[4]
    target = root / "AB12" / "2026-01-01"
    target.mkdir()
    for suffix in (".mp4", ".jpg", ".json"):
        (root / moved.path).with_suffix(suffix).rename(target / f"{moved.id}{suffix}")
    with caplog.at_level(logging.INFO):
        library.open()
    expected = [
        *clips[2:4],
        replace(
            moved,
            path=f"AB12/2026-01-01/{moved.id}.mp4",
            thumbnail=f"AB12/2026-01-01/{moved.id}.jpg",
        ),
        *clips[5:],
    ]
    assert library.clips() == sorted(expected, key=lambda clip: clip.start, reverse=True)
    assert (
        "8 clips; added 3 from sidecars and 0 by reading the video (0 unreadable); removed 3 "
        "rows without a file and 4 leftover files" in caplog.text
    )
    assert not [path for path in root.glob("AB12/*/*") if path.stem.startswith(clips[0].id)]


def test_leftovers_beside_an_entry_named_like_the_video_are_kept(library: Library) -> None:
    clip = placeholder(library, "AB12", T0)
    mp4 = library.root / clip.path
    mp4.unlink()
    mp4.symlink_to(mp4.with_name("gone.mp4"))  # not a clip file, but its name is taken
    library.close()
    library.open()
    assert library.clips() == []
    assert mp4.with_suffix(".jpg").exists()
    assert mp4.with_suffix(".json").exists()


def test_oldest_unprotected_pages_in_age_order(library: Library) -> None:
    ties = [placeholder(library, "AB12", T0) for _ in range(3)]
    earlier = placeholder(library, "AB12", T0 - HOUR)
    later = placeholder(library, "ZX-9", T0 + HOUR)
    library.set_protected(placeholder(library, "AB12", T0 - 2 * HOUR).id, True)
    oldest = [earlier, *sorted(ties, key=lambda clip: clip.id), later]
    assert library.oldest_unprotected() == oldest
    assert library.oldest_unprotected("ZX-9") == [later]
    pages: list[Clip] = []
    while page := library.oldest_unprotected(after=pages[-1] if pages else None, limit=2):
        pages.extend(page)
    assert pages == oldest
    assert library.oldest_unprotected("AB12", after=ties[0], limit=10) == [
        clip for clip in oldest[:4] if clip.id > ties[0].id
    ]


def test_batch_commits_once_at_the_end_even_on_errors(library: Library) -> None:
    first, second, kept = (placeholder(library, "AB12", T0 + n * HOUR) for n in range(3))

    def interrupted() -> None:
        with library.batch():
            library.delete(first.id)
            with library.batch():
                library.delete(second.id)
            assert committed(library) == {first.id, second.id, kept.id}
            assert library.clips() == [kept]  # the batch's own connection sees its changes
            raise RuntimeError

    with pytest.raises(RuntimeError):
        interrupted()
    # The files were deleted with each change, so the rows follow them.
    assert committed(library) == {kept.id}
    assert library.clips() == [kept]


@pytest.mark.parametrize("page", [1, 2, 256])
def test_retention_pages_through_the_clips(
    library: Library, monkeypatch: pytest.MonkeyPatch, page: int
) -> None:
    monkeypatch.setattr(retention, "PAGE", page)
    clips = [placeholder(library, "AB12", T0 - (100 - n) * HOUR) for n in range(7)]
    clips[2] = library.set_protected(clips[2].id, True)
    pages: list[int] = []
    oldest_unprotected = library.oldest_unprotected

    def counted(device: str | None = None, **kwargs: Any) -> list[Clip]:
        found = oldest_unprotected(device, **kwargs)
        pages.append(len(found))
        return found

    monkeypatch.setattr(library, "oldest_unprotected", counted)
    policy = RetentionPolicy(min_free_bytes=0)
    # Nothing is due: one page is read, whatever the library holds.
    assert apply_retention(library, policy, now=T0 - 30 * HOUR, free_bytes=lambda: 0).deleted == ()
    assert len(pages) == 1
    # At T0 - 24 h, the clips older than 72 h are the first four: one of them protected.
    result = apply_retention(library, policy, now=T0 - 24 * HOUR, free_bytes=lambda: 0)
    assert result.deleted == tuple(clip.id for clip in clips[:4] if clip is not clips[2])
    assert committed(library) == {clips[2].id, clips[4].id, clips[5].id, clips[6].id}
    everything = RetentionPolicy(max_age=None, max_total_bytes=0, min_free_bytes=1)
    pages.clear()
    result = apply_retention(library, everything, now=T0, free_bytes=lambda: 0)
    assert result.deleted == (clips[4].id, clips[5].id, clips[6].id)
    assert result.paused
    assert sum(pages) == 3
    assert committed(library) == {clips[2].id}
