"""One demuxed packet, copied out of FFmpeg and placed on its stream's continuous timeline."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

StreamKind = Literal["video", "audio"]


@dataclass(frozen=True, slots=True)
class Packet:
    """An encoded access unit (video) or frame (audio), never transcoded on the way in."""

    stream: StreamKind
    data: bytes
    pts: int  # in `time_base`, monotonic per stream after the ingest's rebasing
    dts: int
    duration: int  # in `time_base`; 0 when unknown
    time_base: Fraction
    keyframe: bool
    wall: float  # time.time() when the packet arrived

    @property
    def seconds(self) -> float:
        """Return the decoding time in seconds on the stream's timeline."""
        # Not `dts * time_base`: Fraction arithmetic is slow, and this runs per packet.
        return self.dts * self.time_base.numerator / self.time_base.denominator
