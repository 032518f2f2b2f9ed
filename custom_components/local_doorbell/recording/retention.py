"""Retention: delete unprotected clips by age, total size and the disk's free-space floor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging

from .layout import utc
from .library import Clip, Library, LibraryError

_LOGGER = logging.getLogger(__name__)

GIB = 1 << 30
ONLY_PROTECTED_LEFT = "only_protected_left"
PAGE = 256  # clips read, and deleted in one transaction, at a time


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long clips are kept and how much room they may take; None turns a limit off."""

    # The 72-hour guideline of European data-protection authorities.
    max_age: timedelta | None = timedelta(hours=72)
    max_total_bytes: int | None = None
    # Never fill the disk Home Assistant runs on.
    min_free_bytes: int = GIB


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
    """Apply the policy, oldest unprotected clips first; protected clips are never deleted.

    `now` is the system clock; clips age by `Library.retention_time`, which no jump of it
    moves forward. With `device`, only that device's clips are considered and counted (a
    storage root shared by doorbells with different policies). The clips are read from the
    index a page at a time and each page's deletions are committed together, so a pass costs
    what it deletes, not what the library holds.
    """
    now = library.retention_time(utc(now))
    cutoff = None if policy.max_age is None else now - policy.max_age
    excess = 0
    if policy.max_total_bytes is not None:
        excess = library.totals(device)[1] - policy.max_total_bytes
    deleted: list[str] = []
    for page in _pages(library, device):
        with library.batch():
            for clip in page:
                # Too old, over the size limit, or short of free space: each limit deletes a
                # run of the oldest clips, so the first clip no limit wants ends the pass.
                if not (
                    (cutoff is not None and (clip.kept_since or clip.start) < cutoff)
                    or excess > 0
                    or free_bytes() < policy.min_free_bytes
                ):
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


def _pages(library: Library, device: str | None) -> Iterator[list[Clip]]:
    """Yield the unprotected clips, oldest first, a page at a time."""
    after: Clip | None = None
    while page := library.oldest_unprotected(device, after=after, limit=PAGE):
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
