"""Retention: delete unprotected clips by age, total size and the disk's free-space floor."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
import logging

from .layout import utc
from .library import Clip, Library, LibraryError

_LOGGER = logging.getLogger(__name__)

GIB = 1 << 30
ONLY_PROTECTED_LEFT = "only_protected_left"
PAGE = 256  # clips read, and deleted in one transaction, at a time


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long clips are kept and how much room they may take; None turns a limit off.

    `max_age_by_trigger` keeps the clips of some triggers for other times than `max_age`; a
    clip that several events started or extended is kept for the longest of theirs.
    """

    # The 72-hour guideline of European data-protection authorities.
    max_age: timedelta | None = timedelta(hours=72)
    max_total_bytes: int | None = None
    # Never fill the disk Home Assistant runs on.
    min_free_bytes: int = GIB
    max_age_by_trigger: Mapping[str, timedelta | None] = field(default_factory=dict)

    def max_age_of(self, triggers: Iterable[str]) -> timedelta | None:
        """Return how long a clip of these triggers is kept: the longest of theirs."""
        ages = [self.max_age_by_trigger.get(name, self.max_age) for name in triggers]
        ages = ages or [self.max_age]
        if None in ages:
            return None
        return max(age for age in ages if age is not None)

    def cutoffs(self, now: datetime) -> tuple[dict[str, datetime | None], datetime | None]:
        """Return per trigger, and for any other, the time before which clips are due."""
        by_trigger = {
            name: None if age is None else now - age
            for name, age in self.max_age_by_trigger.items()
        }
        return by_trigger, None if self.max_age is None else now - self.max_age


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """What a retention pass deleted, and whether recording must pause for lack of room."""

    deleted: tuple[str, ...]
    paused: bool
    reason: str | None


def apply_retention(
    library: Library,
    policy: RetentionPolicy,
    *,
    now: datetime,
    free_bytes: Callable[[], int],
    device: str | None = None,
) -> RetentionResult:
    """Delete the clips kept past their time, then the oldest while there is too little room.

    Protected clips are never deleted. `now` is the system clock; clips age by
    `Library.retention_time`, which no jump of it moves forward. With `device`, only that
    device's clips are considered and counted (a storage root shared by doorbells with
    different policies). The clips are read from the index a page at a time and each page's
    deletions are committed together, so a pass costs what it deletes, not what the library
    holds.
    """
    now = library.retention_time(utc(now))
    deleted: list[str] = []
    cutoffs, other = policy.cutoffs(now)
    for page in _pages(partial(library.expired, cutoffs, other, device)):
        with library.batch():
            deleted += [clip.id for clip in page if _delete(library, clip)]
    excess = 0
    if policy.max_total_bytes is not None:
        excess = library.totals(device)[1] - policy.max_total_bytes
    for page in _pages(partial(library.oldest_unprotected, device)):
        with library.batch():
            for clip in page:
                # Over the size limit or short of free space: each deletes a run of the
                # oldest clips, so the first clip neither wants ends the pass.
                if not (excess > 0 or free_bytes() < policy.min_free_bytes):
                    return _result(deleted, paused=False)
                if _delete(library, clip):
                    deleted.append(clip.id)
                    excess -= clip.size
    paused = free_bytes() < policy.min_free_bytes
    if paused:
        _LOGGER.warning(
            "Free space is below %d bytes and only protected clips are left",
            policy.min_free_bytes,
        )
    return _result(deleted, paused=paused)


def _pages(read: Callable[..., list[Clip]]) -> Iterator[list[Clip]]:
    """Yield the clips a keyset-paged library query returns, a page at a time."""
    after: Clip | None = None
    while page := read(after=after, limit=PAGE):
        yield page
        if len(page) < PAGE:
            return
        after = page[-1]


def _result(deleted: list[str], *, paused: bool) -> RetentionResult:
    """Log and return the outcome of a pass."""
    _LOGGER.debug("Retention deleted %s; paused: %s", deleted, paused)
    return RetentionResult(
        deleted=tuple(deleted), paused=paused, reason=ONLY_PROTECTED_LEFT if paused else None
    )


def _delete(library: Library, clip: Clip) -> bool:
    """Delete one clip unless it was protected meanwhile; a failure skips it, not the pass."""
    try:
        library.delete(clip.id, keep_protected=True)
    except (LibraryError, OSError) as err:
        _LOGGER.warning("Retention could not delete clip %s: %s", clip.id, err)
        return False
    return True
