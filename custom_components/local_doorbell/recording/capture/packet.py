"""One demuxed packet, as FFmpeg gave it, placed on its stream's continuous timeline."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import av

StreamKind = Literal["video", "audio"]

# PyAV 19's stubs make Packet generic in its stream's type; PyAV 16's do not.
type AvPacket = av.Packet  # type: ignore[type-arg, unused-ignore]


@dataclass(frozen=True, slots=True)
class Packet:
    """An encoded access unit (video) or frame (audio), never transcoded on the way in.

    `data` is the demuxer's own reference-counted packet, never copied: the clip writer
    sets its stream and timestamps before each mux, so only the fields here are the truth.
    """

    stream: StreamKind
    data: AvPacket
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

    @property
    def size(self) -> int:
        """Return the bytes of encoded data."""
        return self.data.size
