"""The clip library: an SQLite index of the clips under the storage root, rebuildable from disk."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
import logging
from pathlib import Path
import sqlite3
import threading
from typing import Any, Protocol

from .layout import (
    LibraryError,
    Sidecar,
    check_device,
    new_clip_id,
    parse_day,
    read_sidecar,
    utc,
    write_sidecar,
)
from .reconcile import reconcile

_LOGGER = logging.getLogger(__name__)

DB_NAME = "index.sqlite3"
SCHEMA_VERSION = 1
_COLUMNS = "id, device, trigger, start_ts, end_ts, duration, size, path, thumbnail, protected"
_SCHEMA = f"""
BEGIN;
CREATE TABLE clips (
    id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    day TEXT NOT NULL,
    trigger TEXT NOT NULL,
    start_ts TEXT NOT NULL,
    end_ts TEXT NOT NULL,
    duration REAL NOT NULL,
    size INTEGER NOT NULL,
    path TEXT NOT NULL,
    thumbnail TEXT,
    protected INTEGER NOT NULL
);
CREATE INDEX clips_by_device ON clips (device, start_ts);
CREATE INDEX clips_by_start ON clips (start_ts);
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""
_EXPECTED_COLUMNS = frozenset(_COLUMNS.split(", ")) | {"day"}
# Fixed width with microseconds, so that text order is time order.
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

__all__ = ["Clip", "ClipResultLike", "Library", "LibraryError", "UnknownClip", "UnsafePath"]


class UnknownClip(LibraryError, KeyError):
    """No clip has this id."""


class UnsafePath(LibraryError):
    """A path that would lead outside the storage root."""


class ProtectedClip(LibraryError):
    """The clip is protected and the caller asked to keep protected clips."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Clip:
    """One recorded clip; paths are relative to the storage root, in POSIX form."""

    id: str
    device: str
    trigger: str
    start: datetime
    end: datetime
    duration: float
    size: int
    path: str
    thumbnail: str | None
    protected: bool


class ClipResultLike(Protocol):
    """What `Library.add` needs from the clip writer's result (`recording.clip.ClipResult`)."""

    @property
    def mp4(self) -> Path:
        """The finished clip, a path `Library.clip_paths` handed out."""

    @property
    def thumbnail(self) -> Path | None:
        """The thumbnail next to the clip, if one was written."""

    @property
    def trigger(self) -> str:
        """What started the recording."""

    @property
    def start(self) -> datetime:
        """When the clip starts (UTC)."""

    @property
    def end(self) -> datetime:
        """When the clip ends (UTC)."""

    @property
    def duration(self) -> float:
        """The clip's length in seconds."""

    @property
    def size(self) -> int:
        """The clip's size in bytes."""


def _sidecar(clip: Clip) -> Sidecar:
    """Return the sidecar that describes a clip."""
    return Sidecar(
        id=clip.id,
        device=clip.device,
        trigger=clip.trigger,
        start=clip.start,
        end=clip.end,
        duration=clip.duration,
        size=clip.size,
        protected=clip.protected,
    )


def _clip(row: tuple[Any, ...]) -> Clip:
    """Turn a row of `_COLUMNS` into a Clip."""
    cid, device, trigger, start, end, duration, size, path, thumbnail, protected = row
    return Clip(
        id=cid,
        device=device,
        trigger=trigger,
        start=datetime.fromisoformat(start),
        end=datetime.fromisoformat(end),
        duration=duration,
        size=size,
        path=path,
        thumbnail=thumbnail,
        protected=bool(protected),
    )


class Library:
    """The clips under one storage root and their SQLite index; call from one thread at a time."""

    def __init__(self, root: Path) -> None:
        """Use `root` as the storage root; nothing is touched until `open()`."""
        self.root = root.resolve()
        self.db_path = self.root / DB_NAME
        # Re-entrant: add() and delete() call get() and path_of() while holding it.
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._reserved: set[str] = set()

    def open(self) -> None:
        """Open the index, rebuilding it from the clip files if missing or unreadable."""
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                self._conn = self._connect()
            except sqlite3.DatabaseError as err:
                self._set_aside(err)
                self._conn = self._connect()
            reconcile(self)

    def close(self) -> None:
        """Close the index."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def clip_paths(self, device: str, trigger: str, start: datetime) -> tuple[Path, Path]:
        """Reserve a new clip id and return where its mp4 and jpg go; creates the day folder."""
        device = check_device(device)
        start = utc(start)
        with self._lock:
            db = self.db()
            day_dir = self.root / device / start.date().isoformat()
            day_dir.mkdir(parents=True, exist_ok=True)
            while True:
                clip_id = new_clip_id(start, trigger)
                mp4 = day_dir / f"{clip_id}.mp4"
                if clip_id in self._reserved or mp4.exists():
                    continue
                if db.execute("SELECT 1 FROM clips WHERE id = ?", (clip_id,)).fetchone() is None:
                    break
            self._reserved.add(clip_id)
        return mp4, mp4.with_suffix(".jpg")

    def add(self, device: str, result: ClipResultLike) -> Clip:
        """Index a finished clip from `clip_paths`, writing its sidecar first."""
        device = check_device(device)
        mp4 = self.inside(result.mp4)
        if mp4.suffix != ".mp4" or mp4.parent.parent != self.root / device:
            raise LibraryError(f"{result.mp4} is not a clip path of {device}")
        jpg = mp4.with_suffix(".jpg")
        if result.thumbnail is not None and self.inside(result.thumbnail) != jpg:
            raise LibraryError(f"the thumbnail {result.thumbnail} must be {jpg}")
        clip = Clip(
            id=mp4.stem,
            device=device,
            trigger=result.trigger,
            start=utc(result.start),
            end=utc(result.end),
            duration=float(result.duration),
            size=int(result.size),
            path=self.relative(mp4),
            thumbnail=self.relative(jpg) if result.thumbnail is not None and jpg.exists() else None,
            protected=False,
        )
        with self._lock:
            if self._row(clip.id) is not None:
                raise LibraryError(f"clip {clip.id} is already in the library")
            write_sidecar(mp4.with_suffix(".json"), _sidecar(clip))
            self.insert(clip)
            self._reserved.discard(clip.id)
        return clip

    def get(self, clip_id: str) -> Clip:
        """Return a clip by id."""
        row = self._row(clip_id)
        if row is None:
            raise UnknownClip(clip_id)
        return _clip(row)

    def clips(self, device: str | None = None, day: date | None = None) -> list[Clip]:
        """Return the clips, newest first, of one device and/or one (UTC) day if given."""
        where, args = self._where(device=device, day=day.isoformat() if day else None)
        return self._query(f"SELECT {_COLUMNS} FROM clips{where} ORDER BY start_ts DESC", args)

    def days(self, device: str) -> list[date]:
        """Return the (UTC) days that have clips of a device, newest first."""
        with self._lock:
            rows = self.db().execute(
                "SELECT DISTINCT day FROM clips WHERE device = ? ORDER BY day DESC", (device,)
            )
            return [date.fromisoformat(day) for (day,) in rows]

    def devices(self) -> list[str]:
        """Return the devices that have clips, sorted."""
        with self._lock:
            rows = self.db().execute("SELECT DISTINCT device FROM clips ORDER BY device")
            return [device for (device,) in rows]

    def totals(self, device: str | None = None) -> tuple[int, int]:
        """Return the number of clips and their bytes, of one device if given."""
        where, args = self._where(device=device)
        with self._lock:
            count, size = (
                self.db()
                .execute(f"SELECT COUNT(*), COALESCE(SUM(size), 0) FROM clips{where}", args)
                .fetchone()
            )
        return int(count), int(size)

    def latest(self, device: str, trigger: str | None = None) -> Clip | None:
        """Return the newest clip of a device, of one trigger if given."""
        where, args = self._where(device=device, trigger=trigger)
        found = self._query(
            f"SELECT {_COLUMNS} FROM clips{where} ORDER BY start_ts DESC LIMIT 1", args
        )
        return found[0] if found else None

    def set_protected(self, clip_id: str, protected: bool) -> Clip:
        """Protect a clip from retention, or release it; the sidecar records the decision."""
        with self._lock:
            clip = replace(self.get(clip_id), protected=protected)
            # The sidecar first: it is what a rebuilt index trusts.
            write_sidecar(self.path_of(clip).with_suffix(".json"), _sidecar(clip))
            with self.db() as db:
                db.execute("UPDATE clips SET protected = ? WHERE id = ?", (protected, clip_id))
        _LOGGER.info("Clip %s is now %s", clip_id, "protected" if protected else "unprotected")
        return clip

    def delete(self, clip_id: str, *, keep_protected: bool = False) -> None:
        """Delete a clip's files and row; with `keep_protected`, refuse if it is protected."""
        with self._lock:
            clip = self.get(clip_id)
            if keep_protected and clip.protected:
                raise ProtectedClip(clip_id)
            mp4 = self.path_of(clip)
            # The video first: if we stop half-way, what is left is no recording.
            for path in (mp4, mp4.with_suffix(".jpg"), mp4.with_suffix(".json")):
                path.unlink(missing_ok=True)
            with self.db() as db:
                db.execute("DELETE FROM clips WHERE id = ?", (clip_id,))
        _LOGGER.debug("Deleted clip %s", clip_id)

    def path_of(self, clip: Clip) -> Path:
        """Return the absolute path of a clip's mp4, refusing one outside the storage root."""
        return self.inside(self.root / clip.path)

    def thumbnail_of(self, clip: Clip) -> Path | None:
        """Return the absolute path of a clip's thumbnail, if it has one."""
        return None if clip.thumbnail is None else self.inside(self.root / clip.thumbnail)

    def inside(self, path: Path) -> Path:
        """Return `path` resolved, or raise UnsafePath if it is not inside the storage root."""
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root):
            raise UnsafePath(f"{path} is outside the storage root {self.root}")
        return resolved

    def relative(self, path: Path) -> str:
        """Return a path inside the root as it is stored: relative, POSIX."""
        return path.relative_to(self.root).as_posix()

    def db(self) -> sqlite3.Connection:
        """Return the open connection (for this module and `reconcile`)."""
        if self._conn is None:
            raise LibraryError("the clip library is not open")
        return self._conn

    def insert(self, clip: Clip) -> None:
        """Add a clip's row; the day is its folder's."""
        day = Path(clip.path).parent.name
        assert parse_day(day) is not None, clip.path
        with self._lock, self.db() as db:
            db.execute(
                f"INSERT INTO clips ({_COLUMNS}, day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    clip.id,
                    clip.device,
                    clip.trigger,
                    f"{clip.start:{_TS_FORMAT}}",
                    f"{clip.end:{_TS_FORMAT}}",
                    clip.duration,
                    clip.size,
                    clip.path,
                    clip.thumbnail,
                    clip.protected,
                    day,
                ),
            )

    def _row(self, clip_id: str) -> tuple[Any, ...] | None:
        """Return a clip's row, or None."""
        with self._lock:
            row: tuple[Any, ...] | None = (
                self.db()
                .execute(f"SELECT {_COLUMNS} FROM clips WHERE id = ?", (clip_id,))
                .fetchone()
            )
            return row

    def _query(self, sql: str, args: tuple[str, ...]) -> list[Clip]:
        """Run a query of `_COLUMNS` rows and return the clips."""
        with self._lock:
            # Ties in start time fall back to the id, which is also time-ordered.
            rows = self.db().execute(sql.replace("start_ts DESC", "start_ts DESC, id DESC"), args)
            return [_clip(row) for row in rows]

    @staticmethod
    def _where(**filters: str | None) -> tuple[str, tuple[str, ...]]:
        """Build a WHERE clause from the filters that are not None."""
        used = {column: value for column, value in filters.items() if value is not None}
        if not used:
            return "", ()
        return " WHERE " + " AND ".join(f"{column} = ?" for column in used), tuple(used.values())

    def _connect(self) -> sqlite3.Connection:
        """Connect to the index, creating the schema; raise DatabaseError if it is not ours."""
        conn = sqlite3.connect(self.db_path, check_same_thread=False)
        try:
            (check,) = conn.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {check}")
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            columns = {row[1] for row in conn.execute("PRAGMA table_info(clips)")}
            if version == 0 and not conn.execute("SELECT 1 FROM sqlite_master").fetchone():
                conn.executescript(_SCHEMA)
            elif version != SCHEMA_VERSION or columns != _EXPECTED_COLUMNS:
                # No migrations: the sidecars make a rebuild lossless.
                raise sqlite3.DatabaseError(f"schema version {version}, columns {sorted(columns)}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _set_aside(self, err: sqlite3.DatabaseError) -> None:
        """Move an unreadable index (and its journal) aside, so that it can be rebuilt."""
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
        for suffix in ("", "-journal", "-wal", "-shm"):
            path = self.db_path.with_name(DB_NAME + suffix)
            if path.exists():
                path.replace(path.with_name(f"{path.name}.corrupt-{stamp}"))
        _LOGGER.warning(
            "The clip index %s is unreadable (%s); it was moved aside as %s.corrupt-%s and is "
            "rebuilt from the clip files",
            self.db_path,
            err,
            DB_NAME,
            stamp,
        )


def recovered_clip(
    library: Library, mp4: Path, device: str, duration: float, start: datetime, trigger: str
) -> Clip:
    """Describe a clip found on disk without a sidecar, and write the sidecar it lacked."""
    jpg = mp4.with_suffix(".jpg")
    clip = Clip(
        id=mp4.stem,
        device=device,
        trigger=trigger,
        start=start,
        end=start + timedelta(seconds=duration),
        duration=duration,
        size=mp4.stat().st_size,
        path=library.relative(mp4),
        thumbnail=library.relative(jpg) if jpg.exists() else None,
        protected=False,
    )
    write_sidecar(mp4.with_suffix(".json"), _sidecar(clip))
    return clip


def sidecar_clip(library: Library, mp4: Path, device: str) -> Clip | None:
    """Describe a clip found on disk from its sidecar, or None if it has no trusted one."""
    sidecar = read_sidecar(mp4.with_suffix(".json"), mp4.stem, device)
    if sidecar is None:
        return None
    jpg = mp4.with_suffix(".jpg")
    return Clip(
        id=sidecar.id,
        device=device,
        trigger=sidecar.trigger,
        start=sidecar.start,
        end=sidecar.end,
        duration=sidecar.duration,
        size=mp4.stat().st_size,
        path=library.relative(mp4),
        thumbnail=library.relative(jpg) if jpg.exists() else None,
        protected=sidecar.protected,
    )
