"""The codec parameters of one connection's streams, kept after its demuxer is gone."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
import io
from typing import Protocol

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream

COPIED_AUDIO = "aac"  # the one audio codec that goes into an MP4 clip unchanged


class Rational(Protocol):
    """A fraction as PyAV gives it: `Fraction` (PyAV 16) or `AVRational` (PyAV 19)."""

    @property
    def numerator(self) -> int:
        """Return the numerator."""

    @property
    def denominator(self) -> int:
        """Return the denominator."""


def as_fraction(value: Rational | None, default: Fraction) -> Fraction:
    """Return a PyAV rational as a Fraction (exact, and fast to compute with)."""
    if value is None or not value.denominator or not value.numerator:
        return default
    return Fraction(value.numerator, value.denominator)


class Templates:
    """Copies of the input streams that `add_stream_from_template` can use after a reconnect.

    PyAV creates a stream-copy output stream only from a template stream, and a template
    must belong to an open container; the RTSP demuxer is closed on every reconnect, so the
    streams are copied once into an in-memory muxer that is never written.
    """

    def __init__(self, video: VideoStream, audio: AudioStream | None) -> None:
        """Copy the streams' parameters, each stream with its own decoder."""
        self._holder: OutputContainer = av.open(io.BytesIO(), "w", format="mp4")
        self.video: VideoStream = self._holder.add_stream_from_template(video, opaque=True)
        self.audio: AudioStream | None = None
        if audio is not None and audio.codec_context.name == COPIED_AUDIO:
            self.audio = self._holder.add_stream_from_template(audio, opaque=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamInfo:
    """What the clip writer and the keyframe decoder need to know about the streams."""

    video_codec: str  # FFmpeg decoder name: "h264" or "hevc"
    width: int
    height: int
    video_extradata: bytes  # parameter sets from the SDP, Annex B
    video_time_base: Fraction
    audio_codec: str | None = None  # "aac", "pcm_mulaw", "pcm_alaw", ...
    sample_rate: int = 0
    channels: int = 0
    audio_extradata: bytes = b""
    audio_time_base: Fraction | None = None
    # Not part of equality: a reconnection with equal parameters keeps clips going.
    templates: Templates | None = field(default=None, compare=False, repr=False)


def describe_streams(
    video: VideoStream, audio: AudioStream | None, size: tuple[int, int]
) -> StreamInfo:
    """Return the info of an opened input's streams; `size` is the picture's, decoded."""
    info = StreamInfo(
        video_codec=video.codec_context.name,
        width=size[0],
        height=size[1],
        video_extradata=video.codec_context.extradata or b"",
        video_time_base=as_fraction(video.time_base, Fraction(1, 90_000)),
        templates=Templates(video, audio),
    )
    if audio is None:
        return info
    context = audio.codec_context
    return replace(
        info,
        audio_codec=context.name,
        sample_rate=context.sample_rate,
        channels=context.channels or 1,
        audio_extradata=context.extradata or b"",
        audio_time_base=as_fraction(audio.time_base, Fraction(1, context.sample_rate or 8000)),
    )
