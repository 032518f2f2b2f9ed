"""Timestamp hygiene: one stream's timestamps made monotonic and continuous."""

from __future__ import annotations

from fractions import Fraction

# A timestamp this far off what the wall clock explains is a jump, not a late or lost packet.
JUMP_TOLERANCE = 1.0  # seconds


class Timeline:
    """Maps one stream's input timestamps onto an output timeline without jumps or reversals.

    Cameras jump their RTP clocks (an encoder restart, a clock correction) and every
    reconnection starts a new clock. Output timestamps then continue from the last packet,
    later by the wall-clock time that really passed (at least one packet duration), so a clip
    made across a jump plays at the right speed and never runs backwards.
    """

    def __init__(self, time_base: Fraction, default_step: int) -> None:
        """Start empty; `default_step` is the packet duration to assume when none is given."""
        self._use(time_base)
        self._default_step = max(1, default_step)
        self._offset = 0
        self._last: int | None = None  # output dts of the last packet
        self._last_wall = 0.0
        self._restart = False

    def restart(self, time_base: Fraction, default_step: int) -> None:
        """Expect a new clock (a new connection); another time base starts a new timeline."""
        if time_base != self.time_base:
            self._use(time_base)
            self._offset = 0
            self._last = None
        self._default_step = max(1, default_step)
        self._restart = True

    def _use(self, time_base: Fraction) -> None:
        self.time_base = time_base
        # Plain numbers: this runs for every packet, and Fraction arithmetic is slow.
        self._rate = time_base.denominator / time_base.numerator  # ticks per second
        self._tolerance = round(JUMP_TOLERANCE * self._rate)

    def place(
        self, pts: int | None, dts: int | None, duration: int, wall: float
    ) -> tuple[int, int] | None:
        """Return the output (pts, dts) of a packet, or None to drop it."""
        if dts is None:
            return None
        out = dts + self._offset
        last = self._last
        if last is not None:
            elapsed = round((wall - self._last_wall) * self._rate)
            ahead = out - last - elapsed
            if self._restart or ahead > self._tolerance or last - out > self._tolerance:
                # Continue where the stream was, as much later as the wall clock says.
                self._offset = last + max(duration or self._default_step, elapsed) - dts
                out = dts + self._offset
            elif out <= last:
                return None  # a repeated or reordered packet: muxers want rising dts
        self._restart = False
        self._last = out
        self._last_wall = wall
        return (out if pts is None else pts + self._offset), out
