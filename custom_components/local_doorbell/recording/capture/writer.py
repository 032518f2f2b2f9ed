"""One clip written as fragmented MP4: video and AAC copied, other audio re-encoded as AAC."""

from __future__ import annotations

from fractions import Fraction
import logging
import math
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from .audio import AacTranscoder
from .packet import Packet
from .streams import StreamInfo

_LOGGER = logging.getLogger(__name__)

# A moov without samples up front, then one self-contained fragment per keyframe: a crash
# loses at most the fragment being written, and the file plays while it grows.
MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"


class ClipWriter:
    """Writes packets from a keyframe on, with timestamps rebased to start at zero."""

    def __init__(self, path: Path, info: StreamInfo) -> None:
        """Create the file and its streams; raise OSError or av.FFmpegError on failure."""
        if info.templates is None:
            raise ValueError("stream info without templates")
        self.path = path
        # flush_packets hands each finished fragment to the OS at once, not 32 KiB later.
        self._output = av.open(
            str(path),
            "w",
            format="mp4",
            container_options={"movflags": MOVFLAGS, "flush_packets": "1"},
        )
        try:
            self._video = self._add_video(info)
            self._audio: AudioStream | None = None
            self._transcoder: AacTranscoder | None = None
            self.audio = self._add_audio(info)
        except BaseException:
            self._output.close()
            raise
        self._origin: Fraction | None = None  # seconds on the ingest timeline at pts 0
        self._start = 0.0  # the same, as a float
        self._shifts: dict[str, int] = {}  # the origin in each stream's time base
        self._video_end = 0  # output pts after the last picture, in the video time base
        self._video_time_base = info.video_time_base
        self.first_wall = self.last_wall = 0.0

    @property
    def duration(self) -> float:
        """Return the seconds of video written."""
        return float(self._video_end * self._video_time_base)

    def elapsed(self, packet: Packet) -> float:
        """Return how far into the clip a packet falls, in seconds."""
        return 0.0 if self._origin is None else packet.seconds - self._start

    def write(self, packet: Packet) -> None:
        """Write a packet; video before the first keyframe and audio before it are skipped."""
        if self._origin is None:
            if packet.stream != "video" or not packet.keyframe:
                return
            self._origin = packet.dts * packet.time_base
            self._start = packet.seconds
            self.first_wall = packet.wall
        shift = self._shifts.get(packet.stream)
        if shift is None:  # once per stream: Fraction arithmetic is slow
            shift = self._shifts[packet.stream] = math.ceil(self._origin / packet.time_base)
        pts, dts = packet.pts - shift, packet.dts - shift
        if dts < 0:
            return  # audio from just before the first picture
        self.last_wall = packet.wall
        if packet.stream == "video":
            self._mux(self._video, packet, pts, dts)
            self._video_end = max(self._video_end, pts + packet.duration)
        elif self._audio is not None:
            self._mux(self._audio, packet, pts, dts)
        elif self._transcoder is not None:
            self._transcoder.encode(packet.data, pts)

    def close(self) -> None:
        """Flush the audio encoder and finish the file; raise on a write error."""
        try:
            if self._transcoder is not None and self._origin is not None:
                self._transcoder.encode(None)
        finally:
            self._output.close()

    def _add_video(self, info: StreamInfo) -> VideoStream:
        assert info.templates is not None
        stream = info.templates.video
        video = self._output.add_stream_from_template(stream, opaque=True)
        context = video.codec_context
        context.thread_count = 1  # PyAV 16 opens this (unused) decoder: keep it small
        context.width, context.height = info.width, info.height
        if info.video_codec == "hevc":
            context.codec_tag = "hvc1"  # what Apple's players require; others take it too
        return video

    def _add_audio(self, info: StreamInfo) -> str:
        """Add the audio stream; return what happens to the audio: copy, aac or none."""
        assert info.templates is not None
        if info.templates.audio is not None:
            self._audio = self._output.add_stream_from_template(info.templates.audio, opaque=True)
            return "copy"
        if info.audio_codec is None:
            return "none"
        try:
            self._transcoder = AacTranscoder(self._output, info)
        except (av.FFmpegError, ValueError, TypeError) as err:
            _LOGGER.warning(
                "Clips will have no sound: %s audio cannot become AAC: %s", info.audio_codec, err
            )
            return "none"
        return "aac"

    def _mux(self, stream: VideoStream | AudioStream, packet: Packet, pts: int, dts: int) -> None:
        out = packet.data
        out.stream = stream
        out.time_base = packet.time_base
        out.pts, out.dts = pts, dts
        out.duration = packet.duration
        out.is_keyframe = packet.keyframe
        self._output.mux(out)
