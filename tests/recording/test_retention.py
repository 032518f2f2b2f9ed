"""Retention deletes the oldest unprotected clips by age, size and free space; never protected."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
import sqlite3

import pytest

from custom_components.local_doorbell.recording.archive.clock import RetentionClock
from custom_components.local_doorbell.recording.archive.library import Clip, Library, ProtectedClip
from custom_components.local_doorbell.recording.archive.retention import (
    GIB,
    ONLY_PROTECTED_LEFT,
    RetentionPolicy,
    RetentionResult,
    apply_retention,
)

from .media import T0, record_clip

HOUR = timedelta(hours=1)
NO_FLOOR = RetentionPolicy(min_free_bytes=0)


@pytest.fixture
def clips(library: Library) -> list[Clip]:
    """Record five clips an hour apart, from T0 - 100 h to T0 - 96 h; the second protected."""
    recorded = [
        record_clip(library, "AB12" if i % 2 else "ZX-9", "ring", T0 - (100 - i) * HOUR)
        for i in range(5)
    ]
    recorded[1] = library.set_protected(recorded[1].id, True)
    return recorded


def plenty() -> int:
    """Report lots of free space."""
    return 100 * GIB


def ids(clips: list[Clip]) -> tuple[str, ...]:
    """Return the ids of clips."""
    return tuple(clip.id for clip in clips)


class FakeDisk:
    """Free space that grows by each deleted clip's size, as the real disk's would."""

    def __init__(self, library: Library, free: int) -> None:
        """Start with `free` bytes free and the library's current size in use."""
        self.library = library
        self.base = free + library.totals()[1]
        self.reads = 0

    def __call__(self) -> int:
        """Return the free bytes now."""
        self.reads += 1
        return self.base - self.library.totals()[1]


def test_defaults() -> None:
    policy = RetentionPolicy()
    assert policy.max_age == timedelta(hours=72)
    assert policy.max_total_bytes is None
    assert policy.min_free_bytes == GIB == 1024**3


def test_nothing_to_do(library: Library, clips: list[Clip]) -> None:
    result = apply_retention(library, NO_FLOOR, now=T0 - 90 * HOUR, free_bytes=plenty)
    assert result == RetentionResult(deleted=(), paused=False, reason=None)
    assert len(library.clips()) == 5


def test_by_age(library: Library, clips: list[Clip]) -> None:
    # At T0 - 25 h, clips older than 72 h started before T0 - 97 h: the first three, one of
    # them protected.
    result = apply_retention(library, NO_FLOOR, now=T0 - 25 * HOUR, free_bytes=plenty)
    assert result == RetentionResult(deleted=ids([clips[0], clips[2]]), paused=False, reason=None)
    assert library.clips() == [clips[4], clips[3], clips[1]]
    result = apply_retention(library, NO_FLOOR, now=T0 + 1000 * HOUR, free_bytes=plenty)
    assert result.deleted == ids([clips[3], clips[4]])
    assert library.clips() == [clips[1]]


def test_age_limit_off(library: Library, clips: list[Clip]) -> None:
    policy = RetentionPolicy(max_age=None, min_free_bytes=0)
    assert apply_retention(library, policy, now=T0 + 1000 * HOUR, free_bytes=plenty).deleted == ()


def test_by_size(library: Library, clips: list[Clip]) -> None:
    # Room for about two and a half clips: the protected one and the two newest stay.
    limit = clips[1].size + clips[3].size + clips[4].size + 1
    policy = RetentionPolicy(max_age=None, max_total_bytes=limit, min_free_bytes=0)
    result = apply_retention(library, policy, now=T0, free_bytes=plenty)
    assert result.deleted == ids([clips[0], clips[2]])
    assert library.totals()[1] <= limit


def test_size_limit_cannot_touch_protected(library: Library, clips: list[Clip]) -> None:
    policy = RetentionPolicy(max_age=None, max_total_bytes=1, min_free_bytes=0)
    result = apply_retention(library, policy, now=T0, free_bytes=plenty)
    assert result == RetentionResult(
        deleted=ids([clips[0], clips[2], clips[3], clips[4]]), paused=False, reason=None
    )
    assert library.clips() == [clips[1]]


def test_by_free_space(library: Library, clips: list[Clip]) -> None:
    # Two clips short of the floor: the two oldest unprotected go, one at a time.
    floor = 10_000_000
    disk = FakeDisk(library, floor - clips[0].size - clips[2].size // 2)
    policy = RetentionPolicy(max_age=None, min_free_bytes=floor)
    result = apply_retention(library, policy, now=T0, free_bytes=disk)
    assert result == RetentionResult(deleted=ids([clips[0], clips[2]]), paused=False, reason=None)
    assert disk() >= floor
    assert disk.reads == 4  # before, after each deletion, and the check above


def test_paused_when_only_protected_are_left(library: Library, clips: list[Clip]) -> None:
    policy = RetentionPolicy(max_age=None, min_free_bytes=GIB)
    result = apply_retention(library, policy, now=T0, free_bytes=FakeDisk(library, 0))
    assert result == RetentionResult(
        deleted=ids([clips[0], clips[2], clips[3], clips[4]]),
        paused=True,
        reason=ONLY_PROTECTED_LEFT,
    )
    assert library.clips() == [clips[1]]
    again = apply_retention(library, policy, now=T0, free_bytes=FakeDisk(library, 0))
    assert again == RetentionResult(deleted=(), paused=True, reason=ONLY_PROTECTED_LEFT)


def test_paused_with_no_clips_at_all(library: Library) -> None:
    result = apply_retention(library, RetentionPolicy(), now=T0, free_bytes=lambda: 0)
    assert result == RetentionResult(deleted=(), paused=True, reason=ONLY_PROTECTED_LEFT)


def test_one_device(library: Library, clips: list[Clip]) -> None:
    result = apply_retention(
        library, NO_FLOOR, now=T0 + 1000 * HOUR, free_bytes=plenty, device="ZX-9"
    )
    assert result.deleted == ids([clips[0], clips[2], clips[4]])
    assert library.clips() == [clips[3], clips[1]]


def test_protected_meanwhile_is_kept(
    library: Library, clips: list[Clip], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The owner protects a clip after retention has read the candidates.
    listed = library.oldest_unprotected()
    library.set_protected(clips[0].id, True)
    monkeypatch.setattr(library, "expired", lambda *_, after=None, **__: listed)
    result = apply_retention(library, NO_FLOOR, now=T0 + 1000 * HOUR, free_bytes=plenty)
    assert result.deleted == ids([clips[2], clips[3], clips[4]])
    assert library.get(clips[0].id).protected
    with pytest.raises(ProtectedClip):
        library.delete(clips[0].id, keep_protected=True)


def test_a_failing_clip_does_not_stop_the_pass(library: Library, clips: list[Clip]) -> None:
    with closing(sqlite3.connect(library.root / "index.sqlite3")) as db, db:
        db.execute("UPDATE clips SET path = '../../etc/passwd' WHERE id = ?", (clips[0].id,))
    result = apply_retention(library, NO_FLOOR, now=T0 + 1000 * HOUR, free_bytes=plenty)
    assert result.deleted == ids([clips[2], clips[3], clips[4]])
    assert library.get(clips[0].id)


BY_TRIGGER = RetentionPolicy(
    max_age=48 * HOUR,
    min_free_bytes=0,
    max_age_by_trigger={"ring": 72 * HOUR, "motion": 24 * HOUR, "forever": None},
)


def test_each_trigger_keeps_its_clips_for_its_own_time(library: Library) -> None:
    start = T0 - 30 * HOUR
    motion = record_clip(library, trigger="motion", start=start)
    ring = record_clip(library, trigger="ring", start=start)
    person = record_clip(library, trigger="person", start=start)  # no time of its own: 48 h
    watched = library.set_protected(record_clip(library, trigger="motion", start=start).id, True)
    # A ring during a motion clip: kept as long as a ring clip.
    rung = record_clip(library, trigger="motion", start=start, extended_by=frozenset({"ring"}))
    result = apply_retention(library, BY_TRIGGER, now=T0, free_bytes=plenty)
    assert result == RetentionResult(deleted=(motion.id,), paused=False, reason=None)
    assert apply_retention(library, BY_TRIGGER, now=T0 + 19 * HOUR, free_bytes=plenty).deleted == (
        person.id,
    )
    deleted = apply_retention(library, BY_TRIGGER, now=T0 + 43 * HOUR, free_bytes=plenty).deleted
    assert set(deleted) == {ring.id, rung.id}
    assert library.clips() == [watched]


def test_a_trigger_kept_for_ever_keeps_every_clip_it_was_part_of(library: Library) -> None:
    alone = record_clip(library, trigger="forever", start=T0 - 1000 * HOUR)
    part = record_clip(
        library, trigger="motion", start=T0 - 1000 * HOUR, extended_by=frozenset({"forever"})
    )
    assert apply_retention(library, BY_TRIGGER, now=T0, free_bytes=plenty).deleted == ()
    assert {clip.id for clip in library.clips()} == {alone.id, part.id}
    # The room limits still apply to them.
    full = RetentionPolicy(max_age=None, max_total_bytes=0, min_free_bytes=0)
    assert len(apply_retention(library, full, now=T0, free_bytes=plenty).deleted) == 2


def test_how_long_a_clip_of_some_triggers_is_kept() -> None:
    assert BY_TRIGGER.max_age_of({"motion"}) == 24 * HOUR
    assert BY_TRIGGER.max_age_of({"motion", "ring"}) == 72 * HOUR
    assert BY_TRIGGER.max_age_of({"motion", "person"}) == 48 * HOUR
    assert BY_TRIGGER.max_age_of({"ring", "forever"}) is None
    assert BY_TRIGGER.max_age_of(()) == 48 * HOUR
    assert RetentionPolicy(max_age=None).max_age_of(()) is None


def test_a_damaged_triggers_column_counts_the_first_trigger(library: Library) -> None:
    clip = record_clip(library, trigger="motion", start=T0 - 30 * HOUR)
    with closing(sqlite3.connect(library.root / "index.sqlite3")) as db, db:
        db.execute("UPDATE clips SET triggers = '{not json' WHERE id = ?", (clip.id,))
    assert library.get(clip.id).triggers == {"motion"}
    assert apply_retention(library, BY_TRIGGER, now=T0, free_bytes=plenty).deleted == (clip.id,)


def test_now_must_be_aware(library: Library) -> None:
    with pytest.raises(ValueError, match="time zone"):
        apply_retention(library, NO_FLOOR, now=T0.replace(tzinfo=None), free_bytes=plenty)


class Monotonic:
    """A monotonic clock the test moves: the real time that passes."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds

    def wait(self, delta: timedelta) -> None:
        self.seconds += delta.total_seconds()


@pytest.fixture
def real_time() -> Monotonic:
    return Monotonic()


@pytest.fixture
def honest(tmp_path: Path, real_time: Monotonic) -> Iterator[Library]:
    """Return a library whose retention clock reads `real_time`."""
    library = Library(tmp_path / "honest", clock=RetentionClock(real_time))
    library.open()
    yield library
    library.close()


YEAR = timedelta(days=365)


def test_a_clock_jump_forward_deletes_nothing(honest: Library, real_time: Monotonic) -> None:
    recent = [record_clip(honest, start=T0 - n * 10 * timedelta(minutes=1)) for n in range(6)]
    assert apply_retention(honest, NO_FLOOR, now=T0, free_bytes=plenty).deleted == ()
    real_time.wait(timedelta(minutes=10))
    # The system clock leaps a year ahead: only ten minutes really passed.
    assert apply_retention(honest, NO_FLOOR, now=T0 + YEAR, free_bytes=plenty).deleted == ()
    # A clip recorded now is stamped a year ahead; it ages from when retention saw it.
    ahead = record_clip(honest, start=T0 + YEAR + timedelta(minutes=11))
    assert apply_retention(honest, NO_FLOOR, now=T0 + YEAR, free_bytes=plenty).deleted == ()
    real_time.wait(71 * HOUR)
    assert apply_retention(honest, NO_FLOOR, now=T0 + YEAR, free_bytes=plenty).deleted == ()
    # 72 hours after the last of them was recorded, all are due; the late one an hour later.
    real_time.wait(HOUR)
    deleted = apply_retention(honest, NO_FLOOR, now=T0 + YEAR, free_bytes=plenty).deleted
    assert set(deleted) == {clip.id for clip in recent}
    real_time.wait(HOUR)
    assert apply_retention(honest, NO_FLOOR, now=T0 + YEAR, free_bytes=plenty).deleted == (
        ahead.id,
    )


def test_a_restart_does_not_count_a_jump(
    honest: Library, real_time: Monotonic, tmp_path: Path
) -> None:
    clip = record_clip(honest, start=T0 - HOUR)
    assert apply_retention(honest, NO_FLOOR, now=T0, free_bytes=plenty).deleted == ()
    honest.close()
    # Another process, with its own monotonic clock, and the system clock a year ahead.
    restarted = Library(tmp_path / "honest", clock=RetentionClock(Monotonic()))
    restarted.open()
    try:
        assert apply_retention(restarted, NO_FLOOR, now=T0 + YEAR, free_bytes=plenty).deleted == ()
        assert restarted.get(clip.id) == clip
    finally:
        restarted.close()


def test_a_clip_stamped_in_the_future_ages_from_when_it_was_seen(
    honest: Library, real_time: Monotonic
) -> None:
    # Recorded while the clock was a year ahead; the clock is right again.
    ahead = record_clip(honest, start=T0 + YEAR)
    assert apply_retention(honest, NO_FLOOR, now=T0, free_bytes=plenty).deleted == ()
    assert honest.get(ahead.id).kept_since == T0
    assert honest.get(ahead.id).start == T0 + YEAR  # as stamped, for the media browser
    real_time.wait(30 * timedelta(days=1))
    now = T0 + 30 * timedelta(days=1)
    assert apply_retention(honest, NO_FLOOR, now=now, free_bytes=plenty).deleted == (ahead.id,)


def test_a_clock_set_back_is_followed(honest: Library, real_time: Monotonic) -> None:
    clip = record_clip(honest, start=T0 - 71 * HOUR)
    assert apply_retention(honest, NO_FLOOR, now=T0, free_bytes=plenty).deleted == ()
    real_time.wait(2 * HOUR)
    # Set back a day: the clip is 48 hours old by it, and kept.
    assert apply_retention(honest, NO_FLOOR, now=T0 - 22 * HOUR, free_bytes=plenty).deleted == ()
    real_time.wait(24 * HOUR)
    assert apply_retention(honest, NO_FLOOR, now=T0 + 2 * HOUR, free_bytes=plenty).deleted == (
        clip.id,
    )
