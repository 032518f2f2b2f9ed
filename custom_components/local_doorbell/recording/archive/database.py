"""The SQLite side of the clip index: schema, opening (or setting aside), rows."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime
import json
import logging
from pathlib import Path
import sqlite3

from .layout import Clip, trigger_names

_LOGGER = logging.getLogger(__name__)

DB_NAME = "index.sqlite3"
SCHEMA_VERSION = 3
# kept_since: the time retention counts a clip's age from, its start unless that was later
# than retention's clock (a clock set back since it was stamped). triggers: a JSON list of
# every event that started or extended the clip. meta: retention's clock.
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
    protected INTEGER NOT NULL,
    kept_since TEXT NOT NULL,
    triggers TEXT NOT NULL
);
CREATE INDEX clips_by_device ON clips (device, start_ts);
CREATE INDEX clips_by_start ON clips (start_ts);
CREATE INDEX clips_by_age ON clips (kept_since, id);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""
# Version 2 to 3, in place: every clip indexed so far had the one trigger that started it.
_SET_VERSION = f"PRAGMA user_version = {SCHEMA_VERSION};"
_MIGRATE_2 = """
BEGIN;
ALTER TABLE clips ADD COLUMN triggers TEXT NOT NULL DEFAULT '[]';
UPDATE clips SET triggers = json_array(trigger);
"""
# Fixed width with microseconds, so that text order is time order.
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# Each filter is skipped when its parameter is NULL; LIMIT -1 means no limit.
SELECT_CLIPS = """
SELECT * FROM clips
WHERE (:device IS NULL OR device = :device)
  AND start_ts >= :since AND start_ts < :until
  AND (:trigger IS NULL OR trigger = :trigger)
ORDER BY start_ts DESC, id DESC
LIMIT :limit
"""
# The unprotected clips kept past their time, oldest first, paged as below. A clip is kept for
# the longest of its triggers: it is due once retention's time passed the cutoff of each.
# :cutoffs maps a trigger to its cutoff (JSON; '' for one kept for ever), :other is the cutoff
# of triggers it does not name, :latest the latest cutoff of all (no clip after it is due).
SELECT_EXPIRED = """
SELECT * FROM clips
WHERE protected = 0
  AND (:device IS NULL OR device = :device)
  AND kept_since < :latest
  AND (kept_since, id) > (:kept_since, :id)
  AND kept_since < (
    SELECT MIN(COALESCE(
      (SELECT c.value FROM json_each(:cutoffs) AS c WHERE c.key = t.value), :other
    ))
    FROM json_each(CASE WHEN json_valid(triggers) THEN triggers ELSE json_array(trigger) END) AS t
  )
ORDER BY kept_since, id
LIMIT :limit
"""
# Keyset paging: the rows after (:kept_since, :id) in age order; ('', '') starts at the oldest.
SELECT_OLDEST_UNPROTECTED = """
SELECT * FROM clips
WHERE protected = 0
  AND (:device IS NULL OR device = :device)
  AND (kept_since, id) > (:kept_since, :id)
ORDER BY kept_since, id
LIMIT :limit
"""
SELECT_TOTALS = """
SELECT COUNT(*), COALESCE(SUM(size), 0) FROM clips WHERE (:device IS NULL OR device = :device)
"""
_INSERT = """
INSERT INTO clips (
    id, device, day, trigger, start_ts, end_ts, duration, size, path, thumbnail, protected,
    kept_since, triggers
) VALUES (
    :id, :device, :day, :trigger, :start_ts, :end_ts, :duration, :size, :path, :thumbnail,
    :protected, :kept_since, :triggers
)
"""
CLOCK = "retention_clock"


class _Outdated(sqlite3.DatabaseError):
    """The index of an earlier release: rebuilt from the sidecars, nothing lost."""


def open_index(path: Path) -> sqlite3.Connection:
    """Open the index; one that is unreadable or not ours is moved aside and a new one made."""
    try:
        return _connect(path)
    except _Outdated as err:
        _LOGGER.info("The clip index %s is rebuilt from the clip files (%s)", path, err)
        for suffix in ("", "-journal", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return _connect(path)
    except sqlite3.DatabaseError as err:
        if not is_damage(err):
            raise
        aside = set_aside(path)
        _LOGGER.warning(
            "The clip index %s is unreadable (%s); it was moved aside as %s and is rebuilt "
            "from the clip files",
            path,
            err,
            aside.name,
        )
        return _connect(path)


def is_damage(err: sqlite3.DatabaseError) -> bool:
    """Tell whether an SQLite error means a damaged file (or a schema not ours).

    A locked, unreachable or read-only database must stay where it is.
    """
    code = getattr(err, "sqlite_errorcode", None)  # none: raised by us, for a schema not ours
    return code is None or code & 0xFF in {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


def set_aside(path: Path) -> Path:
    """Rename a damaged database (and its journals) out of the way, kept; return its new path."""
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
    for suffix in ("", "-journal", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.replace(part.with_name(f"{part.name}.corrupt-{stamp}"))
    return path.with_name(f"{path.name}.corrupt-{stamp}")


def _columns(db: sqlite3.Connection) -> frozenset[str]:
    """Return the column names of the clips table, empty if there is none."""
    return frozenset(row[1] for row in db.execute("PRAGMA table_info(clips)"))


def _schema_columns() -> frozenset[str]:
    """Return the columns _SCHEMA creates, to recognise an index of another layout."""
    with closing(sqlite3.connect(":memory:")) as db:
        db.executescript(_SCHEMA)
        return _columns(db)


_COLUMNS = _schema_columns()


def _connect(path: Path) -> sqlite3.Connection:
    """Connect to the index, creating the schema; raise DatabaseError if it is not ours."""
    # One connection serves the executor's threads in turn, behind the library's lock.
    db = sqlite3.connect(path, check_same_thread=False)
    try:
        db.row_factory = sqlite3.Row
        (check,) = db.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise sqlite3.DatabaseError(f"integrity check: {check}")
        (version,) = db.execute("PRAGMA user_version").fetchone()
        columns = _columns(db)
        if version == 0 and db.execute("SELECT 1 FROM sqlite_master").fetchone() is None:
            db.executescript(_SCHEMA)
        elif version == 2 and columns == _COLUMNS - {"triggers"}:
            db.executescript(f"{_MIGRATE_2}{_SET_VERSION}COMMIT;")
        elif 0 < version < SCHEMA_VERSION:
            raise _Outdated(f"made by an earlier release, schema version {version}")
        elif version != SCHEMA_VERSION or columns != _COLUMNS:
            # No migrations: the sidecars make a rebuild lossless.
            raise sqlite3.DatabaseError(f"schema version {version} with columns {sorted(columns)}")
    except BaseException:
        db.close()
        raise
    return db


# Bounds that every stored timestamp lies between.
EARLIEST = ""
LATEST = "~"


def timestamp(moment: datetime) -> str:
    """Return a time as the index stores it, in UTC."""
    return f"{moment.astimezone(UTC):{_TS_FORMAT}}"


def insert(db: sqlite3.Connection, clip: Clip) -> None:
    """Add a clip's row, its day being its folder's; the caller commits."""
    db.execute(
        _INSERT,
        {
            "id": clip.id,
            "device": clip.device,
            "day": Path(clip.path).parent.name,
            "trigger": clip.trigger,
            "start_ts": timestamp(clip.start),
            "end_ts": timestamp(clip.end),
            "duration": clip.duration,
            "size": clip.size,
            "path": clip.path,
            "thumbnail": clip.thumbnail,
            "protected": clip.protected,
            "kept_since": timestamp(clip.kept_since or clip.start),
            "triggers": json.dumps(sorted(clip.triggers)),
        },
    )


def read_clock(db: sqlite3.Connection) -> datetime | None:
    """Return retention's clock as last saved, if it was."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (CLOCK,)).fetchone()
    return None if row is None else datetime.fromisoformat(row[0])


def save_clock(db: sqlite3.Connection, now: datetime) -> None:
    """Save retention's clock, and start the age of clips stamped later than it at it."""
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (CLOCK, timestamp(now)))
    db.execute("UPDATE clips SET kept_since = ?1 WHERE kept_since > ?1", (timestamp(now),))


def to_clip(row: sqlite3.Row) -> Clip:
    """Turn a clips row into a Clip."""
    return Clip(
        id=row["id"],
        device=row["device"],
        trigger=row["trigger"],
        start=datetime.fromisoformat(row["start_ts"]),
        end=datetime.fromisoformat(row["end_ts"]),
        duration=row["duration"],
        size=row["size"],
        path=row["path"],
        thumbnail=row["thumbnail"],
        protected=bool(row["protected"]),
        kept_since=datetime.fromisoformat(row["kept_since"]),
        extended_by=_trigger_names(row["triggers"]) - {row["trigger"]},
    )


def _trigger_names(text: str) -> frozenset[str]:
    """Return the names a triggers column lists; none from a value that is no such list."""
    try:
        return trigger_names(json.loads(text))
    except (ValueError, TypeError, RecursionError):
        return frozenset()
