"""The first moments of an RTSP connection, until its packets can be trusted and timed."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from fractions import Fraction

from .packet import AvPacket, StreamKind

_MAX_HELD = 100  # packets kept while waiting for the first timed picture
# Audio that FFmpeg places this far from where its arrival says is on another clock.
AV_TOLERANCE = 0.5  # seconds


@dataclass(frozen=True, slots=True)
class Demuxed:
    """A packet from the demuxer, before it is put on the continuous timeline."""

    kind: StreamKind
    data: AvPacket
    pts: int | None
    dts: int | None
    duration: int
    keyframe: bool
    wall: float  # time.time() when it arrived


class Startup:
    """Holds a connection's packets until a timed picture follows its first keyframe.

    FFmpeg's RTSP demuxer leaves the first pictures without timestamps: they are kept, from
    a keyframe on, and timed back from the first picture that has one, which saves waiting
    a whole group of pictures per connection. Audio that arrives meanwhile is kept too. An
    audio clock that FFmpeg failed to line up with the video's (seen with some AAC streams)
    is lined up by arrival time instead.
    """

    def __init__(
        self, *, probed: bool, video_time_base: Fraction, audio_time_base: Fraction | None
    ) -> None:
        """Start holding; `probed` says the probe read a whole picture (nothing was cut)."""
        self._probed = probed
        self._video_time_base = video_time_base
        self._audio_time_base = audio_time_base
        self._video: list[Demuxed] = []  # untimed pictures from a keyframe on
        self._audio: deque[Demuxed] = deque(maxlen=_MAX_HELD)
        self._anchor: tuple[float, float] | None = None  # first timed picture: seconds, wall
        self._audio_shift: int | None = None

    def take(self, packet: Demuxed) -> list[Demuxed]:
        """Return what can be handed on now, the first keyframe first; timed packets only."""
        if self._anchor is not None:
            if packet.dts is None:
                return []
            return [self._line_up(packet)]
        if packet.kind == "audio":
            if packet.dts is not None:
                self._audio.append(packet)
            return []
        if packet.dts is None:
            # Unless the probe was cut short: cut mid-packet, it may have cost this picture.
            if packet.keyframe and self._probed:
                self._video = [packet]
            elif self._video and len(self._video) < _MAX_HELD:
                self._video.append(packet)
            else:
                self._video.clear()
            return []
        if not (self._video or packet.keyframe):
            return []
        self._anchor = (float(packet.dts * self._video_time_base), packet.wall)
        dts = packet.dts - sum(held.duration or packet.duration for held in self._video)
        ready = []
        for held in self._video:
            ready.append(replace(held, pts=dts, dts=dts, duration=held.duration or packet.duration))
            dts += held.duration or packet.duration
        ready.append(packet)
        ready += [self._line_up(audio) for audio in self._audio if audio.wall >= ready[0].wall]
        self._video.clear()
        self._audio.clear()
        return ready

    def reset(self) -> None:
        """Drop what is held and wait for another keyframe."""
        self._video.clear()
        self._anchor = None
        self._audio_shift = None

    def _line_up(self, audio: Demuxed) -> Demuxed:
        """Shift audio onto the video's clock when FFmpeg's placement is far off."""
        time_base = self._audio_time_base
        if audio.kind == "video" or self._anchor is None or time_base is None or audio.dts is None:
            return audio
        if self._audio_shift is None:
            seconds, wall = self._anchor
            off = seconds + (audio.wall - wall) - float(audio.dts * time_base)
            self._audio_shift = round(off / time_base) if abs(off) > AV_TOLERANCE else 0
        if not self._audio_shift:
            return audio
        shift = self._audio_shift
        return replace(
            audio, pts=None if audio.pts is None else audio.pts + shift, dts=audio.dts + shift
        )
