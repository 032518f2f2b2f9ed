"""Reconnect pacing shared by the drivers and the recorder: exponential back-off with jitter."""

from __future__ import annotations

from asyncio import sleep
from random import uniform

BACKOFF_MAX = 60.0
_JITTER = 0.2


class Backoff:
    """Doubles the wait after every attempt, up to a cap; a healthy connection resets it."""

    def __init__(self, base: float, cap: float = BACKOFF_MAX) -> None:
        """Start at `base` seconds."""
        self._base = base
        self._cap = cap
        self._delay = base

    def reset(self) -> None:
        """Start again from the base: the last connection worked."""
        self._delay = self._base

    def next(self) -> float:
        """Return about the current delay, jittered so that clients do not retry in step.

        The delay after it is twice as long.
        """
        delay = self._delay * uniform(1 - _JITTER, 1 + _JITTER)
        self._delay = min(self._delay * 2, self._cap)
        return delay

    async def wait(self) -> None:
        """Sleep for `next()`."""
        await sleep(self.next())
