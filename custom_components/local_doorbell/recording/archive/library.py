"""The clip library: an SQLite index of the clips under the storage root, rebuildable from disk."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
import json
import logging
from pathlib import Path
import sqlite3
import threading
from typing import Protocol

from .clock import RetentionClock
from .database import (
    DB_NAME,
    EARLIEST,
    LATEST,
    SELECT_CLIPS,
    SELECT_EXPIRED,
    SELECT_OLDEST_UNPROTECTED,
    SELECT_TOTALS,
    insert,
    open_index,
    read_clock,
    save_clock,
    timestamp,
    to_clip,
)
from .layout import (
    Clip,
    InvalidName,
    LibraryError,
    check_device,
    is_clip_id,
    new_clip_id,
    parse_day,
    utc,
    write_sidecar,
)
from .scan import Source, describe, find_clips

_LOGGER = logging.getLogger(__name__)

__all__ = [
    "Clip",
    "ClipResultLike",
    "InvalidName",
    "Library",
    "LibraryError",
    "ProtectedClip",
    "UnknownClip",
    "UnsafePath",
]


class UnknownClip(LibraryError, KeyError):
    """No clip has this id."""


class UnsafePath(LibraryError):
    """A path that would lead outside the storage root."""


class ProtectedClip(LibraryError):
    """The clip is protected and the caller asked to keep protected clips."""


class ClipResultLike(Protocol):
    """What `Library.add` needs from the clip writer's result (`capture.clip.ClipResult`)."""

    @property
    def mp4(self) -> Path:
        """The finished clip, at a path `Library.clip_paths` handed out."""

    @property
    def thumbnail(self) -> Path | None:
        """The thumbnail next to it, if one was written."""

    @property
    def trigger(self) -> str:
        """What started the recording."""

    @property
    def start(self) -> datetime:
        """When the clip starts (aware, UTC)."""

    @property
    def end(self) -> datetime:
        """When the clip ends (aware, UTC)."""

    @property
    def duration(self) -> float:
        """The clip's length in seconds."""

    @property
    def size(self) -> int:
        """The clip's size in bytes."""

    @property
    def extended_by(self) -> frozenset[str]:
        """Other events that made it last longer."""


class Library:
    """The clips under one storage root and their SQLite index; blocking, for an executor."""

    def __init__(self, root: Path, *, clock: RetentionClock | None = None) -> None:
        """Use `root` as the storage root; nothing is touched until `open()`."""
        self.root = root.resolve()
        self._clock = clock or RetentionClock()
        # One connection shared by the executor's threads, one at a time. Re-entrant, as
        # public methods call each other.
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._reserved: set[str] = set()
        self._batching = False

    def open(self) -> None:
        """Open the index (rebuilding it if missing or damaged) and reconcile it with disk.

        Call it before recording starts: an mp4 without a row is taken for a crashed clip,
        unless this library reserved it.
        """
        with self._lock:
            self.close()
            self.root.mkdir(parents=True, exist_ok=True)
            self._db = open_index(self.root / DB_NAME)
            self._reconcile(self._db)

    def close(self) -> None:
        """Close the index."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def clip_paths(self, device: str, trigger: str, start: datetime) -> tuple[Path, Path]:
        """Reserve a new clip id; return where its mp4 and jpg go, creating the day folder."""
        device = check_device(device)
        start = utc(start)
        with self._lock:
            db = self._connection()
            day_dir = self.root / device / start.date().isoformat()
            day_dir.mkdir(parents=True, exist_ok=True)
            while True:
                clip_id = new_clip_id(start, trigger)
                mp4 = day_dir / f"{clip_id}.mp4"
                taken = db.execute("SELECT 1 FROM clips WHERE id = ?", (clip_id,)).fetchone()
                if clip_id not in self._reserved and taken is None and not mp4.exists():
                    break
            self._reserved.add(clip_id)
        return mp4, mp4.with_suffix(".jpg")

    def add(self, device: str, result: ClipResultLike) -> Clip:
        """Index a finished clip written at the paths from `clip_paths`; sidecar first."""
        device = check_device(device)
        mp4 = self._inside(result.mp4)
        if (
            mp4.suffix != ".mp4"
            or not is_clip_id(mp4.stem)
            or parse_day(mp4.parent.name) is None
            or mp4.parent.parent != self.root / device
        ):
            raise LibraryError(f"{result.mp4} is not a clip path of {device}")
        jpg = mp4.with_suffix(".jpg")
        if result.thumbnail is not None and self._inside(result.thumbnail) != jpg:
            raise LibraryError(f"the thumbnail {result.thumbnail} is not {jpg}")
        clip = Clip(
            id=mp4.stem,
            device=device,
            trigger=result.trigger,
            start=utc(result.start),
            end=utc(result.end),
            duration=float(result.duration),
            size=int(result.size),
            path=self._relative(mp4),
            thumbnail=self._relative(jpg)
            if result.thumbnail is not None and jpg.exists()
            else None,
            protected=False,
            kept_since=utc(result.start),
            extended_by=frozenset(result.extended_by) - {result.trigger},
        )
        with self._lock:
            db = self._connection()
            if db.execute("SELECT 1 FROM clips WHERE id = ?", (clip.id,)).fetchone():
                raise LibraryError(f"clip {clip.id} is already in the library")
            # The sidecar first: a crash before the row is written loses nothing.
            write_sidecar(mp4.with_suffix(".json"), clip)
            with self._write() as db:
                insert(db, clip)
            self._reserved.discard(clip.id)
        return clip

    def get(self, clip_id: str) -> Clip:
        """Return a clip by id."""
        with self._lock:
            row = self._connection().execute("SELECT * FROM clips WHERE id = ?", (clip_id,))
            found = row.fetchone()
        if found is None:
            raise UnknownClip(clip_id)
        return to_clip(found)

    def clips(
        self, device: str | None = None, day: date | None = None, tz: tzinfo = UTC
    ) -> list[Clip]:
        """Return the clips, newest first, of one device and/or one day (in `tz`) if given."""
        if day is None:
            return self._select(device=device)
        since = datetime.combine(day, time.min, tz)
        until = datetime.combine(day + timedelta(days=1), time.min, tz)
        return self._select(device=device, since=timestamp(since), until=timestamp(until))

    def days(self, device: str, tz: tzinfo = UTC) -> list[date]:
        """Return the days (in `tz`) that have clips of a device, newest first.

        One index seek per day: from the newest clip, to the newest before that day began.
        """
        query = (
            "SELECT start_ts FROM clips WHERE device = ? AND start_ts < ?"
            " ORDER BY start_ts DESC LIMIT 1"
        )
        days: list[date] = []
        before = LATEST
        with self._lock:
            db = self._connection()
            while row := db.execute(query, (device, before)).fetchone():
                day = datetime.fromisoformat(row[0]).astimezone(tz).date()
                days.append(day)
                before = timestamp(datetime.combine(day, time.min, tz))
        return days

    def devices(self) -> list[str]:
        """Return the devices that have clips, sorted."""
        with self._lock:
            rows = self._connection().execute("SELECT DISTINCT device FROM clips ORDER BY device")
            return [device for (device,) in rows]

    def totals(self, device: str | None = None) -> tuple[int, int]:
        """Return how many clips there are and their bytes, of one device if given."""
        with self._lock:
            count, size = self._connection().execute(SELECT_TOTALS, {"device": device}).fetchone()
        return int(count), int(size)

    def latest(self, device: str, trigger: str | None = None) -> Clip | None:
        """Return the newest clip of a device, of one trigger if given."""
        found = self._select(device=device, trigger=trigger, limit=1)
        return found[0] if found else None

    def set_protected(self, clip_id: str, protected: bool) -> Clip:
        """Protect a clip from retention, or release it; its sidecar keeps the decision."""
        with self._lock:
            clip = replace(self.get(clip_id), protected=protected)
            # The sidecar first: it is what a rebuilt index trusts.
            write_sidecar(self.path_of(clip).with_suffix(".json"), clip)
            with self._write() as db:
                db.execute("UPDATE clips SET protected = ? WHERE id = ?", (protected, clip_id))
        _LOGGER.info("Clip %s is now %s", clip_id, "protected" if protected else "unprotected")
        return clip

    def delete(self, clip_id: str, *, keep_protected: bool = False) -> None:
        """Delete a clip's files and row; with `keep_protected`, refuse a protected clip."""
        with self._lock:
            clip = self.get(clip_id)
            if keep_protected and clip.protected:
                raise ProtectedClip(f"clip {clip_id} is protected")
            mp4 = self.path_of(clip)
            # The video first: whatever an interruption leaves behind is no recording, and the
            # next open() removes it.
            for path in (mp4, mp4.with_suffix(".jpg"), mp4.with_suffix(".json")):
                path.unlink(missing_ok=True)
            with self._write() as db:
                db.execute("DELETE FROM clips WHERE id = ?", (clip_id,))
        _LOGGER.debug("Deleted clip %s", clip_id)

    def retention_time(self, wall: datetime) -> datetime:
        """Return retention's time for a reading of the system clock, and save it.

        See `RetentionClock`. A clip stamped later than that time (the clock was set back
        since) has its age counted from it.
        """
        with self._lock:
            now = self._clock.now(wall, read_clock(self._connection()))
            with self._write() as db:
                save_clock(db, now)
        return now

    def oldest_unprotected(
        self, device: str | None = None, *, after: Clip | None = None, limit: int = 100
    ) -> list[Clip]:
        """Return up to `limit` unprotected clips, oldest first, of one device if given.

        Age counts from `kept_since`; ties are broken by id. With `after`, the list starts past
        that clip: passing the last clip of one call pages through the rest.
        """
        params = {**self._after(after), "device": device, "limit": limit}
        with self._lock:
            rows = self._connection().execute(SELECT_OLDEST_UNPROTECTED, params).fetchall()
        return [to_clip(row) for row in rows]

    def expired(
        self,
        cutoffs: Mapping[str, datetime | None],
        other: datetime | None,
        device: str | None = None,
        *,
        after: Clip | None = None,
        limit: int = 100,
    ) -> list[Clip]:
        """Return up to `limit` unprotected clips past their time, oldest first, paged likewise.

        `cutoffs` gives each trigger the time before which its clips are due (None: never),
        `other` that of triggers it does not name. A clip of several triggers is due only
        once it is past the cutoff of each.
        """
        stamps = {
            name: "" if moment is None else timestamp(moment) for name, moment in cutoffs.items()
        }
        other_stamp = "" if other is None else timestamp(other)
        params = {
            **self._after(after),
            "device": device,
            "cutoffs": json.dumps(stamps),
            "other": other_stamp,
            "latest": max([other_stamp, *stamps.values()]),
            "limit": limit,
        }
        with self._lock:
            rows = self._connection().execute(SELECT_EXPIRED, params).fetchall()
        return [to_clip(row) for row in rows]

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Hold the library for a series of changes and commit their rows together at the end.

        Other callers wait until the block ends. Each change writes or deletes its files at
        once, so whatever was done is committed even when the block raises.
        """
        with self._lock:
            db = self._connection()
            if self._batching:  # within another batch, which commits
                yield
                return
            self._batching = True
            try:
                yield
            finally:
                self._batching = False
                db.commit()

    def path_of(self, clip: Clip) -> Path:
        """Return the absolute path of a clip's mp4; UnsafePath if it leads outside the root."""
        return self._inside(self.root / clip.path)

    def thumbnail_of(self, clip: Clip) -> Path | None:
        """Return the absolute path of a clip's thumbnail, if it has one (checked likewise)."""
        return None if clip.thumbnail is None else self._inside(self.root / clip.thumbnail)

    def _inside(self, path: Path) -> Path:
        """Return `path` resolved, or raise UnsafePath if it is not inside the storage root."""
        # Resolving first defeats "..", absolute paths and symlinks from a tampered row.
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root):
            raise UnsafePath(f"{path} is outside the storage root {self.root}")
        return resolved

    def _relative(self, path: Path) -> str:
        """Return a path inside the root as the index stores it: relative, POSIX."""
        return path.relative_to(self.root).as_posix()

    @staticmethod
    def _after(clip: Clip | None) -> dict[str, str]:
        """Return the keyset that pages past `clip` in age order; from the oldest without one."""
        if clip is None:
            return {"kept_since": "", "id": ""}
        return {"kept_since": timestamp(clip.kept_since or clip.start), "id": clip.id}

    def _connection(self) -> sqlite3.Connection:
        """Return the open connection."""
        if self._db is None:
            raise LibraryError("the clip library is not open")
        return self._db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Return the connection for one change; it commits at the end unless in a batch."""
        db = self._connection()
        if self._batching:
            yield db
        else:
            with db:
                yield db

    def _select(
        self,
        *,
        device: str | None = None,
        since: str = EARLIEST,
        until: str = LATEST,
        trigger: str | None = None,
        limit: int = -1,
    ) -> list[Clip]:
        """Return the clips SELECT_CLIPS finds; a filter left at None is not applied."""
        params = {
            "device": device,
            "since": since,
            "until": until,
            "trigger": trigger,
            "limit": limit,
        }
        with self._lock:
            rows = self._connection().execute(SELECT_CLIPS, params).fetchall()
        return [to_clip(row) for row in rows]

    def _reconcile(self, db: sqlite3.Connection) -> None:
        """Bring the index in line with the files: rows for unindexed clips, none for lost ones."""
        found, leftovers = find_clips(self.root, self._reserved)
        rows = db.cursor()
        rows.row_factory = None
        indexed: dict[str, str] = dict(rows.execute("SELECT id, path FROM clips"))
        # A row whose path is not where the file lies is as stale as one without a file.
        stale = [clip_id for clip_id, _ in indexed.items() - found.items()]
        unindexed = sorted(found.items() - indexed.items(), key=lambda item: item[1])
        added: Counter[Source] = Counter()
        with db:
            db.executemany("DELETE FROM clips WHERE id = ?", [(clip_id,) for clip_id in stale])
            for _, path in unindexed:
                device = path.partition("/")[0]
                try:
                    clip, source = describe(self.root, device, self.root / path)
                except OSError as err:  # one file that cannot be read is no reason to stop
                    _LOGGER.warning("Clip %s is not indexed: %s", path, err)
                    continue
                insert(db, clip)
                added[source] += 1
        _LOGGER.info(
            "Clip library %s: %d clips; added %d from sidecars and %d by reading the video "
            "(%d unreadable); removed %d rows without a file and %d leftover files",
            self.root,
            len(found),
            added[Source.SIDECAR],
            added[Source.PROBED] + added[Source.UNREADABLE],
            added[Source.UNREADABLE],
            len(stale),
            leftovers,
        )
