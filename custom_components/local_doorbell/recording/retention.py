"""Retention: delete unprotected clips by age, total size and the disk's free-space floor."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging

from .layout import utc
from .library import Clip, Library, LibraryError

_LOGGER = logging.getLogger(__name__)

GIB = 1 << 30
ONLY_PROTECTED_LEFT = "only_protected_left"


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

    With `device`, only that device's clips are considered and counted (a storage root
    shared by doorbells with different policies).
    """
    now = utc(now)
    clips = library.clips(device)
    queue = deque(sorted((clip for clip in clips if not clip.protected), key=_age_order))
    deleted: list[str] = []
    if policy.max_age is not None:
        cutoff = now - policy.max_age
        while queue and queue[0].start < cutoff:
            _delete(library, queue.popleft(), deleted)
    if policy.max_total_bytes is not None:
        while queue and library.totals(device)[1] > policy.max_total_bytes:
            _delete(library, queue.popleft(), deleted)
    paused = False
    while free_bytes() < policy.min_free_bytes:
        if not queue:
            paused = True
            _LOGGER.warning(
                "Free space is below %d bytes and only protected clips are left",
                policy.min_free_bytes,
            )
            break
        _delete(library, queue.popleft(), deleted)
    _LOGGER.debug("Retention deleted %s; paused: %s", deleted, paused)
    return RetentionResult(
        deleted=tuple(deleted), paused=paused, reason=ONLY_PROTECTED_LEFT if paused else None
    )


def _age_order(clip: Clip) -> tuple[datetime, str]:
    """Sort key: oldest first; ids break ties in time order."""
    return clip.start, clip.id


def _delete(library: Library, clip: Clip, deleted: list[str]) -> None:
    """Delete one clip unless it was protected meanwhile; a failure skips it, not the pass."""
    try:
        library.delete(clip.id, keep_protected=True)
    except (LibraryError, OSError) as err:
        _LOGGER.warning("Retention could not delete clip %s: %s", clip.id, err)
    else:
        deleted.append(clip.id)
