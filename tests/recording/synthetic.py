"""Media made on the spot, as the ingest would hand it over: no network, no waiting."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
import time

import av
from av.audio.stream import AudioStream
from av.video.codeccontext import VideoCodecContext
from av.video.stream import VideoStream
import numpy as np

from custom_components.local_doorbell.recording.capture.packet import Packet
from custom_components.local_doorbell.recording.capture.streams import (
    StreamInfo,
    as_fraction,
    describe_streams,
)
from virtual_doorbell.audio import beeps
from virtual_doorbell.picture import PictureMaker

FPS = 10
AUDIO_RATE = 8000


@dataclass(frozen=True)
class Source:
    """A recorded stream: its parameters and its packets in arrival order."""

    info: StreamInfo
    packets: list[Packet]

    def video(self) -> list[Packet]:
        return [p for p in self.packets if p.stream == "video"]


def encode(
    path: Path,
    seconds: float = 2.0,
    *,
    codec: str = "libx264",
    audio: str | None = "pcm_mulaw",
    size: tuple[int, int] = (320, 240),
    b_frames: int = 0,
) -> Path:
    """Write `seconds` of counted pictures (a keyframe a second) and beeps to a NUT file."""
    maker = PictureMaker(*size, FPS)
    with av.open(str(path), "w", format="nut") as container:
        video = container.add_stream(codec, rate=FPS)
        assert isinstance(video, VideoStream)
        context = video.codec_context
        assert isinstance(context, VideoCodecContext)
        context.width, context.height = size
        context.pix_fmt = "yuv420p"
        context.gop_size = FPS
        context.max_b_frames = b_frames
        params = {"libx264": "x264-params", "libx265": "x265-params"}[codec]
        context.options = {"preset": "ultrafast", params: "scenecut=0:log-level=0"}
        sound: AudioStream | None = None
        if audio is not None:
            added = container.add_stream(audio, rate=AUDIO_RATE)
            assert isinstance(added, AudioStream)
            sound = added
            sound.layout = "mono"
        for number in range(round(seconds * FPS)):
            frame = av.VideoFrame.from_ndarray(maker.render(number, 0.0), format="yuv420p")
            frame.pts = number
            container.mux(video.encode(frame))
            if sound is not None:
                chunk = AUDIO_RATE // FPS
                samples = beeps(number * chunk, chunk, AUDIO_RATE)
                pcm = (samples * 32767).astype(np.int16)[None, :]
                piece = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
                piece.sample_rate = AUDIO_RATE
                piece.pts = number * chunk
                container.mux(sound.encode(piece))
        container.mux(video.encode(None))
        if sound is not None:
            container.mux(sound.encode(None))
    return path


def load(path: Path, wall: float | None = None) -> Source:
    """Read a file's packets as the ingest hands them on, arriving from `wall` in real time."""
    start = time.time() if wall is None else wall
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        info = describe_streams(video, audio, (video.codec_context.width, video.height))
        packets = []
        for packet in container.demux():
            if packet.dts is None or not packet.size:
                continue
            time_base = as_fraction(packet.stream.time_base, Fraction(1, 1000))
            packets.append(
                Packet(
                    stream="video" if packet.stream is video else "audio",
                    data=packet,
                    pts=packet.pts if packet.pts is not None else packet.dts,
                    dts=packet.dts,
                    duration=packet.duration or 0,
                    time_base=time_base,
                    keyframe=packet.is_keyframe,
                    wall=start + float(packet.dts * time_base),
                )
            )
    return Source(info, packets)
