"""The audit log: who exported, protected, unprotected or deleted which clip, and when."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import logging
from pathlib import Path
import sqlite3
import threading

from ..recording.archive.database import is_damage, set_aside

_LOGGER = logging.getLogger(__name__)

# A file of its own beside the clip index: the index may be set aside and rebuilt from the
# clips' sidecars, the history must not go with it. Retention never touches it (no video).
AUDIT_DB = "audit.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    clip_id TEXT NOT NULL,
    user_id TEXT,
    user_name TEXT,
    sha256 TEXT,
    destination TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_clip ON audit (clip_id, at);
CREATE INDEX IF NOT EXISTS audit_by_action ON audit (action, at);
"""
# Each filter is skipped when its parameter is NULL; fixed-width UTC text sorts by time.
_SELECT = """
SELECT * FROM audit
WHERE (:clip_id IS NULL OR clip_id = :clip_id) AND (:action IS NULL OR action = :action)
ORDER BY at DESC, id DESC
LIMIT :limit
"""
_INSERT = """
INSERT INTO audit (at, action, clip_id, user_id, user_name, sha256, destination)
VALUES (:at, :action, :clip_id, :user_id, :user_name, :sha256, :destination)
"""


class AuditAction(StrEnum):
    """What was done to a clip."""

    EXPORT = "export"
    PROTECT = "protect"
    UNPROTECT = "unprotect"
    DELETE = "delete"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One audited action on a clip."""

    id: int
    at: datetime
    action: AuditAction
    clip_id: str
    user_id: str | None
    user_name: str | None
    sha256: str | None  # of the exported mp4
    destination: str | None  # the exported file


class AuditLog:
    """The audit log of a storage root; blocking, for an executor.

    A damaged file is moved aside, kept for inspection, and a new log started: the doorbell
    goes on recording, and `on_set_aside` is told where the old one went.
    """

    def __init__(self, root: Path, on_set_aside: Callable[[Path], None] | None = None) -> None:
        """Use the log in `root`; nothing is touched before the first call."""
        self.path = root / AUDIT_DB
        self._lock = threading.Lock()
        self._on_set_aside = on_set_aside
        self._checked = False  # whole, as far as a quick check of every page tells

    def record(
        self,
        *,
        action: str,
        clip_id: str,
        user_id: str | None,
        user_name: str | None,
        sha256: str | None,
        destination: str | None,
        at: datetime,
    ) -> AuditEntry:
        """Append an entry and return it."""
        if at.utcoffset() is None:
            raise ValueError(f"{at!r} has no time zone")
        entry_action = AuditAction(action)
        at = at.astimezone(UTC)
        row = {
            "at": at.isoformat(timespec="microseconds"),
            "action": entry_action.value,
            "clip_id": clip_id,
            "user_id": user_id,
            "user_name": user_name,
            "sha256": sha256,
            "destination": destination,
        }
        entry_id = self._run(lambda db: db.execute(_INSERT, row).lastrowid)
        assert entry_id is not None
        return AuditEntry(
            id=entry_id,
            at=at,
            action=entry_action,
            clip_id=clip_id,
            user_id=user_id,
            user_name=user_name,
            sha256=sha256,
            destination=destination,
        )

    def entries(self, clip_id: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Return the newest entries, of one clip if given, newest first."""
        return self._select(clip_id=clip_id, action=None, limit=limit)

    def last(self, action: str | None = None) -> AuditEntry | None:
        """Return the newest entry, of one action if given."""
        found = self._select(
            clip_id=None, action=None if action is None else AuditAction(action), limit=1
        )
        return found[0] if found else None

    def _select(self, *, clip_id: str | None, action: str | None, limit: int) -> list[AuditEntry]:
        params = {"clip_id": clip_id, "action": action, "limit": limit}
        rows = self._run(lambda db: db.execute(_SELECT, params).fetchall())
        return [_entry(row) for row in rows]

    def _run[T](self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Do `work` in a transaction; on a damaged file, set it aside and do it in a new one."""
        with self._lock:
            try:
                return self._transaction(work)
            except sqlite3.DatabaseError as err:
                if not is_damage(err):
                    raise
                aside = set_aside(self.path)
                _LOGGER.warning(
                    "The audit log %s is damaged (%s); it was kept as %s and a new one started",
                    self.path,
                    err,
                    aside.name,
                )
            if self._on_set_aside is not None:
                self._on_set_aside(aside)
            return self._transaction(work)

    def _transaction[T](self, work: Callable[[sqlite3.Connection], T]) -> T:
        with closing(self._connect()) as db, db:
            if not self._checked:
                # Damage in a page no query reads would otherwise go unnoticed for years.
                (check,) = db.execute("PRAGMA quick_check").fetchone()
                if check != "ok":
                    raise sqlite3.DatabaseError(f"integrity check: {check}")
                self._checked = True
            return work(db)

    def _connect(self) -> sqlite3.Connection:
        """Open (or create) the audit database and make sure its table is there."""
        # A connection per call: nothing to keep open when the doorbell unloads.
        db = sqlite3.connect(self.path)
        try:
            db.row_factory = sqlite3.Row
            db.executescript(_SCHEMA)
        except BaseException:
            db.close()
            raise
        return db


def _entry(row: sqlite3.Row) -> AuditEntry:
    """Turn an audit row into an AuditEntry."""
    return AuditEntry(
        id=row["id"],
        at=datetime.fromisoformat(row["at"]),
        action=AuditAction(row["action"]),
        clip_id=row["clip_id"],
        user_id=row["user_id"],
        user_name=row["user_name"],
        sha256=row["sha256"],
        destination=row["destination"],
    )
