"""The audit log keeps who did what to which clip, beside the clip index."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
import sqlite3

import pytest

from custom_components.local_doorbell.privacy.audit import (
    AUDIT_DB,
    AuditAction,
    AuditEntry,
    AuditLog,
)
from custom_components.local_doorbell.recording.archive.library import Library

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    library = Library(tmp_path / "root")
    library.open()
    yield library
    library.close()


def _record(audit: AuditLog, action: str, clip_id: str, at: datetime, **kw: str) -> AuditEntry:
    return audit.record(
        action=action,
        clip_id=clip_id,
        user_id=kw.get("user_id"),
        user_name=kw.get("user_name"),
        sha256=kw.get("sha256"),
        destination=kw.get("destination"),
        at=at,
    )


def test_entries_newest_first_by_clip_and_action(library: Library) -> None:
    audit = AuditLog(library.root)
    assert audit.entries() == []
    assert audit.last() is None
    export = _record(
        audit,
        "export",
        "a",
        T0,
        user_id="u1",
        user_name="Ann",
        sha256="0" * 64,
        destination="/exports/a.mp4",
    )
    assert export.action is AuditAction.EXPORT
    assert export.id > 0
    _record(audit, "protect", "b", T0 + timedelta(minutes=1), user_id="u1")
    # Recorded out of order: the time decides, not the insertion.
    _record(audit, "delete", "a", T0 - timedelta(minutes=1))
    # Another time zone is stored as the same instant in UTC.
    local = T0.astimezone(timezone(timedelta(hours=2))) + timedelta(minutes=2)
    _record(audit, AuditAction.UNPROTECT, "b", local, user_name="Bo")

    assert [(e.action, e.clip_id) for e in audit.entries()] == [
        ("unprotect", "b"),
        ("protect", "b"),
        ("export", "a"),
        ("delete", "a"),
    ]
    assert [e.action for e in audit.entries("a")] == ["export", "delete"]
    assert len(audit.entries(limit=2)) == 2
    assert audit.entries("nope") == []
    # Read back exactly as written.
    assert audit.last("export") == export
    newest = audit.last()
    assert newest is not None
    assert newest.at == T0 + timedelta(minutes=2)
    assert newest.at.tzinfo == UTC
    assert newest.user_name == "Bo"
    assert newest.user_id is None


def test_rejects_naive_times_and_unknown_actions(library: Library) -> None:
    audit = AuditLog(library.root)
    with pytest.raises(ValueError, match="time zone"):
        _record(audit, "export", "a", datetime(2026, 11, 27, 10, 0))
    with pytest.raises(ValueError, match="upload"):
        _record(audit, "upload", "a", T0)
    with pytest.raises(ValueError, match="upload"):
        audit.last("upload")
    assert audit.entries() == []


def test_survives_a_rebuilt_index(library: Library) -> None:
    audit = AuditLog(library.root)
    _record(audit, "delete", "gone", T0)
    library.close()
    # A damaged index is set aside and rebuilt from the sidecars; the history is elsewhere.
    (library.root / "index.sqlite3").write_bytes(b"not a database" * 100)
    library.open()
    assert [e.clip_id for e in AuditLog(library.root).entries()] == ["gone"]
    assert (library.root / AUDIT_DB).is_file()


def test_a_damaged_audit_file_is_kept_aside_and_a_new_one_started(tmp_path: Path) -> None:
    damaged = b"not a database" * 100
    (tmp_path / AUDIT_DB).write_bytes(damaged)
    told: list[Path] = []
    audit = AuditLog(tmp_path, on_set_aside=told.append)
    assert audit.entries() == []
    (aside,) = told
    assert aside.parent == tmp_path
    assert aside.name.startswith(f"{AUDIT_DB}.corrupt-")
    assert aside.read_bytes() == damaged
    _record(audit, "protect", "c1", T0)
    assert [entry.clip_id for entry in audit.entries()] == ["c1"]
    assert len(told) == 1


def test_a_damaged_page_is_found_at_the_first_use(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path)
    for n in range(300):
        _record(audit, "export", f"clip-{n:04}" * 8, T0 + timedelta(seconds=n), sha256="f" * 64)
    with (tmp_path / AUDIT_DB).open("r+b") as file:
        file.seek(5 * 4096 + 8)  # cells of a table page, out of order: no query notices
        file.write(b"\x01\x02\x03" * 300)
    # The next start finds it, before any query would.
    audit = AuditLog(tmp_path)
    _record(audit, "protect", "after", T0 + timedelta(days=1))
    assert [entry.clip_id for entry in audit.entries()] == ["after"]
    assert len(list(tmp_path.glob(f"{AUDIT_DB}.corrupt-*"))) == 1


def test_an_unopenable_audit_file_is_an_error(tmp_path: Path) -> None:
    # Not damage: a folder in the way (or a locked or read-only file) stays, and is an error.
    (tmp_path / AUDIT_DB).mkdir()
    with pytest.raises(sqlite3.OperationalError):
        AuditLog(tmp_path).entries()
    assert (tmp_path / AUDIT_DB).is_dir()


def test_threads_share_one_log(library: Library) -> None:
    audit = AuditLog(library.root)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda n: _record(audit, "protect", f"c{n}", T0 + timedelta(seconds=n)), range(40)
            )
        )
    entries = audit.entries(limit=-1)
    assert len(entries) == 40
    assert entries[0].clip_id == "c39"
    assert len({entry.id for entry in entries}) == 40
