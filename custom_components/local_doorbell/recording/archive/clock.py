"""Retention's clock: the system clock, except that it never runs ahead of real time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
import time

from .layout import utc


class RetentionClock:
    """Tells retention the time, so that no jump of the system clock ages a clip.

    While running, the time that passes is measured with the monotonic clock: the system
    clock is followed back (a clip is then kept longer), never forward faster than time really
    passes. A restart goes on from the time reached before (`saved`): the time Home Assistant
    was stopped cannot be told from a clock set forward, so it does not count.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        """Start with no reading taken."""
        self._monotonic = monotonic
        self._last: tuple[datetime, float] | None = None  # the time returned, and when

    def now(self, wall: datetime, saved: datetime | None) -> datetime:
        """Return retention's time for a reading of the system clock (aware)."""
        wall = utc(wall)
        reading = self._monotonic()
        if self._last is not None:
            last, then = self._last
            ceiling: datetime | None = last + timedelta(seconds=max(reading - then, 0.0))
        else:
            ceiling = saved
        now = wall if ceiling is None else min(wall, ceiling)
        self._last = (now, reading)
        return now
