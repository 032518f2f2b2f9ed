"""The clip library indexes clips, refuses paths outside its root and rebuilds from disk."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
import json
import logging
import os
from pathlib import Path
import re
import secrets
import sqlite3
from zoneinfo import ZoneInfo

import pytest

from custom_components.local_doorbell.recording.archive import layout, library as library_module
from custom_components.local_doorbell.recording.archive.database import timestamp
from custom_components.local_doorbell.recording.archive.library import (
    Clip,
    InvalidName,
    Library,
    LibraryError,
    UnknownClip,
    UnsafePath,
)
from custom_components.local_doorbell.recording.archive.scan import (
    Source,
    describe as real_describe,
)

from .media import FPS, JPEG, T0, FakeResult, record_clip, truncate, write_fragmented_mp4

DAY = timedelta(days=1)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Return the storage root, not yet created."""
    return tmp_path / "clips"


@pytest.fixture
def library(root: Path) -> Iterator[Library]:
    """Return an open library."""
    library = Library(root)
    library.open()
    yield library
    library.close()


@pytest.fixture
def restart(library: Library) -> Iterator[Callable[[], Library]]:
    """Return a function that stops the library and opens a new one, as a new process does."""
    started: list[Library] = []

    def _restart() -> Library:
        library.close()
        started.append(Library(library.root))
        started[-1].open()
        return started[-1]

    yield _restart
    for new in started:
        new.close()


def reopen(library: Library) -> None:
    """Close and open again, as a restart of Home Assistant does."""
    library.close()
    library.open()


def test_add_and_get(library: Library, root: Path) -> None:
    clip = record_clip(library, "AB12", "ring", T0)
    assert re.fullmatch(r"20261127T100000Z-ring-[0-9a-f]{4}", clip.id)
    assert clip.path == f"AB12/2026-11-27/{clip.id}.mp4"
    assert clip.thumbnail == f"AB12/2026-11-27/{clip.id}.jpg"
    assert (clip.device, clip.trigger, clip.start, clip.protected) == ("AB12", "ring", T0, False)
    assert clip.duration == 2.0
    assert library.get(clip.id) == clip
    assert library.path_of(clip) == root / clip.path
    assert library.thumbnail_of(clip) == root / f"AB12/2026-11-27/{clip.id}.jpg"
    sidecar = json.loads((root / clip.path).with_suffix(".json").read_text())
    assert sidecar["id"] == clip.id
    assert sidecar["device"] == "AB12"
    assert sidecar["protected"] is False
    assert not list(root.rglob("*.tmp"))


def test_clip_without_thumbnail(library: Library) -> None:
    clip = record_clip(library, thumbnail=False)
    assert clip.thumbnail is None
    assert library.thumbnail_of(clip) is None


def test_clip_paths_reserve_unique_ids(
    library: Library, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = record_clip(library, trigger="Motion Detected!")
    assert taken.id.startswith("20261127T100000Z-motiondetected-")
    random = iter([taken.id[-4:], "aaaa", "aaaa", "bbbb"])
    monkeypatch.setattr(secrets, "token_hex", lambda _: next(random))
    first, jpg = library.clip_paths("AB12", "motion detected!", T0)
    second, _ = library.clip_paths("AB12", "motion detected!", T0)
    assert first.name == "20261127T100000Z-motiondetected-aaaa.mp4"
    assert second.name == "20261127T100000Z-motiondetected-bbbb.mp4"
    assert jpg == first.with_suffix(".jpg")
    assert first.parent.is_dir()
    assert first.parent == root / "AB12" / "2026-11-27"


def test_queries(library: Library) -> None:
    older = record_clip(library, "AB12", "ring", T0 - DAY)
    motion = record_clip(library, "AB12", "motion", T0)
    ring = record_clip(library, "AB12", "ring", T0 + timedelta(minutes=1))
    other = record_clip(library, "ZX-9", "ring", T0 + timedelta(minutes=2))
    assert library.clips() == [other, ring, motion, older]
    assert library.clips("AB12") == [ring, motion, older]
    assert library.clips("AB12", date(2026, 11, 27)) == [ring, motion]
    assert library.clips(day=date(2026, 11, 26)) == [older]
    assert library.days("AB12") == [date(2026, 11, 27), date(2026, 11, 26)]
    assert library.days("nobody") == []
    assert library.devices() == ["AB12", "ZX-9"]
    assert library.totals() == (4, sum(c.size for c in (older, motion, ring, other)))
    assert library.totals("ZX-9") == (1, other.size)
    assert library.totals("nobody") == (0, 0)
    assert library.latest("AB12") == ring
    assert library.latest("AB12", "motion") == motion
    assert library.latest("AB12", "person") is None
    assert library.latest("nobody") is None


@pytest.mark.parametrize(
    ("zone", "days"),
    [
        # 23:30 and 00:30 UTC: two UTC days, one evening in New York, one morning in India.
        ("UTC", [date(2026, 11, 28), date(2026, 11, 27)]),
        ("America/New_York", [date(2026, 11, 27)]),
        ("Asia/Kolkata", [date(2026, 11, 28)]),
        # Auckland is 13 hours ahead in November: both fall on the 28th, 12:30 and 13:30.
        ("Pacific/Auckland", [date(2026, 11, 28)]),
    ],
)
def test_days_are_the_owners_days(library: Library, zone: str, days: list[date]) -> None:
    tz = ZoneInfo(zone)
    midnight = T0.replace(hour=0, minute=0) + DAY
    late = record_clip(library, "AB12", "ring", midnight - timedelta(minutes=30))
    early = record_clip(library, "AB12", "ring", midnight + timedelta(minutes=30))
    assert library.days("AB12", tz) == days
    assert [c for d in days for c in library.clips("AB12", d, tz)] == [early, late]


def test_days_across_a_daylight_saving_change(library: Library) -> None:
    """Berlin's clocks went back at 01:00 UTC on 25 October 2026: that day had 25 hours."""
    tz = ZoneInfo("Europe/Berlin")
    first = record_clip(library, "AB12", "ring", datetime(2026, 10, 24, 22, 30, tzinfo=UTC))
    last = record_clip(library, "AB12", "ring", datetime(2026, 10, 25, 22, 30, tzinfo=UTC))
    after = record_clip(library, "AB12", "ring", datetime(2026, 10, 25, 23, 30, tzinfo=UTC))
    assert library.days("AB12", tz) == [date(2026, 10, 26), date(2026, 10, 25)]
    assert library.clips("AB12", date(2026, 10, 25), tz) == [last, first]
    assert library.clips("AB12", date(2026, 10, 26), tz) == [after]


def test_set_protected_writes_the_sidecar(library: Library, root: Path) -> None:
    clip = record_clip(library)
    protected = library.set_protected(clip.id, True)
    assert protected == replace(clip, protected=True)
    assert library.get(clip.id).protected
    sidecar = (root / clip.path).with_suffix(".json")
    assert json.loads(sidecar.read_text())["protected"] is True
    assert not library.set_protected(clip.id, False).protected
    assert json.loads(sidecar.read_text())["protected"] is False


def test_delete(library: Library, root: Path) -> None:
    clip = record_clip(library)
    keep = record_clip(library)
    library.delete(clip.id)
    assert not list(root.glob(f"*/*/{clip.id}.*"))
    assert len(list(root.glob(f"*/*/{keep.id}.*"))) == 3
    assert library.clips() == [keep]
    with pytest.raises(UnknownClip):
        library.get(clip.id)
    with pytest.raises(UnknownClip):
        library.delete(clip.id)
    with pytest.raises(UnknownClip):
        library.set_protected(clip.id, True)


@pytest.mark.parametrize("device", ["", ".", "..", "a/b", "../up", "a b", "x" * 65, "é"])
def test_device_names_are_folder_safe(library: Library, device: str) -> None:
    with pytest.raises(InvalidName):
        library.clip_paths(device, "ring", T0)


def test_add_accepts_only_its_own_paths(library: Library, tmp_path: Path) -> None:
    mp4, jpg = library.clip_paths("AB12", "ring", T0)
    write_fragmented_mp4(mp4)
    good = FakeResult(mp4, jpg, "ring", T0, T0 + timedelta(seconds=2), 2.0, mp4.stat().st_size)
    with pytest.raises(UnsafePath):
        library.add("AB12", replace(good, mp4=tmp_path / "elsewhere.mp4"))
    with pytest.raises(LibraryError, match="not a clip path"):
        library.add("ZX9", good)
    with pytest.raises(LibraryError, match="not a clip path"):
        library.add("AB12", replace(good, mp4=mp4.with_name("holiday.mp4")))
    with pytest.raises(LibraryError, match="thumbnail"):
        library.add("AB12", replace(good, thumbnail=mp4.with_name("other.jpg")))
    with pytest.raises(ValueError, match="time zone"):
        library.add("AB12", replace(good, start=T0.replace(tzinfo=None)))
    clip = library.add("AB12", good)
    assert clip.thumbnail is None  # promised but never written
    with pytest.raises(LibraryError, match="already"):
        library.add("AB12", good)


def test_closed_library_refuses_work(root: Path) -> None:
    library = Library(root)
    with pytest.raises(LibraryError, match="not open"):
        library.clips()
    library.open()
    library.open()  # again: the first connection is closed, not leaked
    library.close()
    library.close()
    with pytest.raises(LibraryError, match="not open"):
        library.clip_paths("AB12", "ring", T0)


def test_tampered_row_paths_are_refused(library: Library, root: Path, tmp_path: Path) -> None:
    clip = record_clip(library)
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"not yours")
    for path in ("../../etc/passwd", "/etc/passwd", "../outside.mp4"):
        with pytest.raises(UnsafePath):
            library.path_of(replace(clip, path=path))
        with pytest.raises(UnsafePath):
            library.thumbnail_of(replace(clip, thumbnail=path))
    with closing(sqlite3.connect(root / "index.sqlite3")) as db, db:
        db.execute("UPDATE clips SET path = '../outside.mp4' WHERE id = ?", (clip.id,))
    with pytest.raises(UnsafePath):
        library.delete(clip.id)
    assert outside.read_bytes() == b"not yours"
    # Reconciling puts the row back where the file really is.
    reopen(library)
    assert library.get(clip.id) == clip


def test_tampered_sidecar_is_not_trusted(library: Library, root: Path) -> None:
    clip = record_clip(library)
    sidecar = (root / clip.path).with_suffix(".json")
    data = json.loads(sidecar.read_text())
    data.update(id="../../etc/passwd", device="../../etc", path="../../etc/passwd", protected=True)
    sidecar.write_text(json.dumps(data))
    (root / "index.sqlite3").unlink()
    reopen(library)
    # Read from the video instead: the path is where the file lies.
    rebuilt = library.get(clip.id)
    assert rebuilt.path == clip.path
    assert library.path_of(rebuilt) == root / clip.path
    assert rebuilt.protected  # a sidecar not trusted may have held the owner's protection
    assert json.loads(sidecar.read_text())["id"] == clip.id


def test_unreadable_sidecar_falls_back_to_the_video(library: Library, root: Path) -> None:
    clip = record_clip(library)
    (root / clip.path).with_suffix(".json").write_text("{not json")
    (root / "index.sqlite3").unlink()
    reopen(library)
    assert library.get(clip.id).duration == pytest.approx(2.0)


def _damage(sidecar: Path, how: str) -> None:
    """Damage a sidecar in one of the ways that once stopped the rebuild."""
    text = sidecar.read_text()
    if how == "overflow":
        text = re.sub(r'"size": [0-9]+', '"size": 1e999', text)
    elif how == "nan":
        text = re.sub(r'"duration": [0-9.]+', '"duration": NaN', text)
    elif how == "deep":
        text = text.replace('"ring"', "[" * 100_000 + "]" * 100_000)
    elif how == "triggers":
        text = text.replace('"triggers": ["ring"]', '"triggers": "ring"')
    else:
        text = text.replace('"start": "', '"start": "-')
    sidecar.write_text(text)


@pytest.mark.parametrize("how", ["overflow", "nan", "deep", "no_time", "triggers"])
@pytest.mark.parametrize("protected", [True, False])
def test_one_damaged_sidecar_does_not_stop_the_rebuild(
    library: Library, root: Path, how: str, protected: bool, caplog: pytest.LogCaptureFixture
) -> None:
    damaged = library.set_protected(record_clip(library, "AB12").id, protected)
    others = [record_clip(library, "ZX-9", start=T0 + n * DAY) for n in range(2)]
    _damage((root / damaged.path).with_suffix(".json"), how)
    (root / "index.sqlite3").unlink()
    reopen(library)
    assert library.clips(device="ZX-9") == others[::-1]
    # Protection is never lost: an unreadable sidecar brings its clip back protected.
    rebuilt = library.get(damaged.id)
    assert rebuilt.protected
    assert rebuilt.duration == pytest.approx(2.0)
    assert "Unreadable clip sidecar" in caplog.text
    # The sidecar is written anew, protected: the next rebuild reads it.
    (root / "index.sqlite3").unlink()
    reopen(library)
    assert library.get(damaged.id).protected


def test_a_clip_that_cannot_be_read_does_not_stop_the_rebuild(
    library: Library, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    locked, kept = record_clip(library, "AB12"), record_clip(library, "ZX-9")
    (root / locked.path).with_suffix(".json").unlink()
    (root / "index.sqlite3").unlink()

    def describe(root: Path, device: str, mp4: Path) -> tuple[Clip, Source]:
        if mp4.stem == locked.id:
            raise PermissionError(13, "Permission denied", str(mp4))
        return real_describe(root, device, mp4)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(library_module, "describe", describe)
        reopen(library)
    assert library.clips() == [kept]
    assert "Permission denied" in caplog.text


def test_rebuild_after_the_index_is_deleted(library: Library, root: Path) -> None:
    clips = [record_clip(library, "AB12", "ring", T0 + timedelta(minutes=i)) for i in range(3)]
    clips.append(record_clip(library, "ZX-9", "motion", T0 - DAY, thumbnail=False))
    clips[1] = library.set_protected(clips[1].id, True)
    clips[3] = library.set_protected(clips[3].id, True)
    library.close()
    (root / "index.sqlite3").unlink()
    library.open()
    assert library.clips() == sorted(clips, key=lambda clip: clip.start, reverse=True)


def test_garbage_index_is_set_aside(library: Library, root: Path) -> None:
    clip = library.set_protected(record_clip(library).id, True)
    library.close()
    (root / "index.sqlite3").write_bytes(b"this is not a database" * 100)
    library.open()
    assert library.clips() == [clip]
    assert len(list(root.glob("index.sqlite3.corrupt-*"))) == 1


def test_damaged_index_is_set_aside(library: Library, root: Path) -> None:
    clip = record_clip(library)
    library.close()
    damaged = root / "index.sqlite3"
    damaged.unlink()
    with closing(sqlite3.connect(damaged)) as db, db:
        db.execute("CREATE TABLE t (a TEXT)")
        db.execute("CREATE INDEX t_a ON t (a)")
        db.executemany("INSERT INTO t VALUES (?)", [(str(i) * 20,) for i in range(300)])
    with damaged.open("r+b") as file:
        file.seek(3 * 4096 + 2000)  # inside a page: a valid header, a broken b-tree
        file.write(b"\x01\x02\x03" * 30)
    library.open()
    assert library.clips() == [clip]
    assert list(root.glob("index.sqlite3.corrupt-*"))


def test_an_unopenable_index_is_left_alone(library: Library, root: Path) -> None:
    library.close()
    (root / "index.sqlite3").unlink()
    (root / "index.sqlite3").mkdir()
    with pytest.raises(sqlite3.OperationalError):
        library.open()
    assert (root / "index.sqlite3").is_dir()
    assert not list(root.glob("*.corrupt-*"))


def test_index_of_an_earlier_release_is_rebuilt_quietly(
    library: Library, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clip = record_clip(library)
    library.set_protected(clip.id, True)
    library.close()
    (root / "index.sqlite3").unlink()
    with closing(sqlite3.connect(root / "index.sqlite3")) as db:
        db.executescript("CREATE TABLE clips (id TEXT PRIMARY KEY); PRAGMA user_version = 1;")
    library.open()
    assert library.clips() == [library.get(clip.id)]
    assert library.get(clip.id).protected
    # An upgrade is no damage: nothing set aside, nothing above INFO.
    assert not list(root.glob("index.sqlite3.corrupt-*"))
    assert not [record for record in caplog.records if record.levelno > logging.INFO]


def test_a_clip_remembers_every_event_that_made_it(library: Library, root: Path) -> None:
    clip = record_clip(library, trigger="motion", extended_by=frozenset({"ring", "motion"}))
    assert (clip.trigger, clip.extended_by, clip.triggers) == (
        "motion",
        frozenset({"ring"}),
        frozenset({"motion", "ring"}),
    )
    assert library.get(clip.id) == clip
    sidecar = (root / clip.path).with_suffix(".json")
    assert json.loads(sidecar.read_text())["triggers"] == ["motion", "ring"]
    (root / "index.sqlite3").unlink()
    reopen(library)
    assert library.get(clip.id).triggers == {"motion", "ring"}
    # A sidecar of an earlier release names only the first trigger.
    data = json.loads(sidecar.read_text())
    del data["triggers"]
    sidecar.write_text(json.dumps(data))
    (root / "index.sqlite3").unlink()
    reopen(library)
    assert library.get(clip.id).triggers == {"motion"}


def test_index_of_the_previous_release_is_migrated_in_place(
    library: Library, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clip = library.set_protected(record_clip(library, trigger="motion").id, True)
    later = record_clip(library, start=T0 + DAY)
    library.retention_time(T0 + DAY)  # stamps retention's clock, which a rebuild would lose
    library.close()
    with closing(sqlite3.connect(root / "index.sqlite3")) as db:
        # The layout of schema version 2: no triggers column.
        db.executescript("ALTER TABLE clips DROP COLUMN triggers; PRAGMA user_version = 2;")
        db.execute("UPDATE clips SET kept_since = ? WHERE id = ?", (timestamp(T0 + DAY), clip.id))
        db.commit()
        clock = db.execute("SELECT value FROM meta").fetchone()
    for sidecar in root.glob("*/*/*.json"):
        sidecar.unlink()  # the index alone must carry the clips over
    library.open()
    assert library.clips() == [later, replace(clip, kept_since=T0 + DAY)]
    assert library.get(clip.id).protected
    assert library.get(clip.id).triggers == {"motion"}
    with closing(sqlite3.connect(root / "index.sqlite3")) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (3,)
        assert db.execute("SELECT value FROM meta").fetchone() == clock
    assert not [record for record in caplog.records if record.levelno > logging.INFO]


@pytest.mark.parametrize(
    "script",
    ["CREATE TABLE other (id TEXT);", "PRAGMA user_version = 7;"],
)
def test_index_of_another_schema_is_rebuilt(library: Library, root: Path, script: str) -> None:
    clip = record_clip(library)
    library.close()
    (root / "index.sqlite3").unlink()
    with closing(sqlite3.connect(root / "index.sqlite3")) as db:
        db.executescript(script)
    library.open()
    assert library.clips() == [clip]
    assert list(root.glob("index.sqlite3.corrupt-*"))


def test_crashed_clip_without_sidecar_is_probed(
    library: Library, restart: Callable[[], Library]
) -> None:
    mp4, _ = library.clip_paths("AB12", "motion", T0)
    write_fragmented_mp4(mp4, frames=30)
    library = restart()
    (clip,) = library.clips()
    assert clip.id == mp4.stem
    assert (clip.device, clip.trigger, clip.start, clip.protected) == ("AB12", "motion", T0, False)
    assert clip.duration == pytest.approx(30 / FPS)
    assert clip.end == T0 + timedelta(seconds=clip.duration)
    assert clip.size == mp4.stat().st_size
    assert json.loads(mp4.with_suffix(".json").read_text())["duration"] == clip.duration


def test_reopening_leaves_clips_being_written_alone(library: Library) -> None:
    mp4, jpg = library.clip_paths("AB12", "ring", T0)
    jpg.write_bytes(JPEG)
    reopen(library)
    assert jpg.exists()
    write_fragmented_mp4(mp4)
    reopen(library)
    assert library.clips() == []
    result = FakeResult(mp4, jpg, "ring", T0, T0 + timedelta(seconds=2), 2.0, mp4.stat().st_size)
    assert library.add("AB12", result) == library.get(mp4.stem)


def test_truncated_and_unreadable_clips_are_kept(
    library: Library, restart: Callable[[], Library]
) -> None:
    cut, _ = library.clip_paths("AB12", "ring", T0)
    truncate(write_fragmented_mp4(cut, frames=30))
    broken, _ = library.clip_paths("AB12", "ring", T0 + timedelta(minutes=1))
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"garbage" * 50)
    library = restart()
    assert 0 < library.get(cut.stem).duration < 3.0
    assert library.get(broken.stem).duration == 0.0
    assert library.get(broken.stem).end == T0 + timedelta(minutes=1)


def test_rows_without_files_are_removed(library: Library, root: Path) -> None:
    gone = record_clip(library, "AB12", "ring", T0 - DAY)
    kept = record_clip(library, "AB12", "ring", T0)
    (root / gone.path).unlink()  # as if deleted by hand, or an interrupted delete()
    (root / kept.path).with_suffix(".json.tmp").write_text("{")  # an interrupted sidecar write
    reopen(library)
    assert library.clips() == [kept]
    # The leftovers of the lost clip, and its then empty day folder, are gone too.
    assert not (root / gone.path).parent.exists()
    assert sorted(p.name for p in (root / kept.path).parent.iterdir()) == sorted(
        f"{kept.id}.{ext}" for ext in ("mp4", "jpg", "json")
    )


def test_a_leftover_that_cannot_be_removed_is_left(
    library: Library, root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    gone, kept = record_clip(library, "AB12"), record_clip(library, "ZX-9")
    (root / gone.path).unlink()  # a deletion cut short: thumbnail and sidecar are left

    def refused(path: str) -> None:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "unlink", refused)
    reopen(library)
    assert library.clips() == [kept]
    assert (root / gone.path).with_suffix(".jpg").exists()
    assert "Could not remove the leftover" in caplog.text


def test_files_outside_the_layout_are_ignored(library: Library, root: Path) -> None:
    clip = record_clip(library, "AB12")
    day = root / "AB12" / "2026-11-27"
    (root / "notes.txt").write_text("mine")
    write_fragmented_mp4(root / "bad name" / "2026-11-27" / "20261127T100000Z-ring-abcd.mp4")
    write_fragmented_mp4(root / "AB12" / "2026-13-45" / "20261127T100000Z-ring-abcd.mp4")
    write_fragmented_mp4(root / "AB12" / "holiday" / "20261127T100000Z-ring-abcd.mp4")
    write_fragmented_mp4(day / "holiday.mp4")
    (day / "holiday.jpg").write_bytes(JPEG)
    # Named like a clip, but at a time that never was: the 13th month, the 61st minute.
    write_fragmented_mp4(day / "20261327T100000Z-ring-abcd.mp4")
    write_fragmented_mp4(day / "20261127T106100Z-ring-abcd.mp4")
    (day / "20261327T100000Z-ring-abcd.jpg").write_bytes(JPEG)
    (root / "linked").symlink_to(root / "AB12")
    (day / "20261127T100000Z-ring-ffff.mp4").symlink_to(root / clip.path)
    # The same clip in a second device folder: the first one found is indexed.
    duplicate = root / "ZZ" / "2026-11-27" / f"{clip.id}.mp4"
    duplicate.parent.mkdir(parents=True)
    duplicate.write_bytes((root / clip.path).read_bytes())
    (root / "index.sqlite3").unlink()
    reopen(library)
    assert library.clips() == [clip]
    assert (day / "holiday.jpg").exists()
    assert (day / "20261327T100000Z-ring-abcd.jpg").exists()
    assert duplicate.exists()


def test_clip_id_parts() -> None:
    assert layout.clip_id_parts("20261127T100000Z-ring-a1b2") == (T0, "ring")
    with pytest.raises(ValueError, match="not a clip id"):
        layout.clip_id_parts("holiday")
    with pytest.raises(ValueError, match="month"):
        layout.clip_id_parts("20261327T100000Z-ring-a1b2")
    assert not layout.is_clip_id("20261127T106100Z-ring-a1b2")
