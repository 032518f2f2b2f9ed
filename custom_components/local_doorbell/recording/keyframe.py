"""Pictures from single keyframes: clip thumbnails and the camera's snapshot cache."""

from __future__ import annotations

import io
import threading

import av
from av.video.codeccontext import VideoCodecContext
from PIL import Image

from .packet import Packet
from .streams import StreamInfo

THUMBNAIL_WIDTH = 640
_QUALITY = 85


def decode_keyframe(codec: str, extradata: bytes, data: bytes) -> av.VideoFrame | None:
    """Decode one keyframe on its own; None when it does not decode."""
    decoder = av.CodecContext.create(codec, "r")
    if not isinstance(decoder, VideoCodecContext):
        raise TypeError(f"{codec} is not a video codec")
    decoder.extradata = extradata or None
    decoder.thread_count = 1  # one picture: worker threads would only cost their start-up
    try:
        # Flushing returns the picture even from decoders that hold one back.
        frames: list[object] = [*decoder.decode(av.Packet(data)), *decoder.decode(None)]
    except av.FFmpegError:
        return None
    return next((f for f in frames if isinstance(f, av.VideoFrame)), None)


def to_jpeg(frame: av.VideoFrame, max_width: int | None = None) -> bytes:
    """Encode a picture as JPEG, scaled down (never up) to `max_width`."""
    width, height = frame.width, frame.height
    if max_width is not None and width > max_width:
        height = max(2, round(height * max_width / width / 2) * 2)
        width = max_width
    rgb = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
    image = Image.fromarray(rgb)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=_QUALITY)
    return buffer.getvalue()


def keyframe_jpeg(packet: Packet, info: StreamInfo, max_width: int | None = None) -> bytes | None:
    """Return a keyframe packet as JPEG; None when it does not decode."""
    frame = decode_keyframe(info.video_codec, info.video_extradata, bytes(packet.data))
    return None if frame is None else to_jpeg(frame, max_width)


class SnapshotCache:
    """The JPEG of the newest keyframe, made on first request and kept until the next one."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._packet: Packet | None = None
        self._jpeg: bytes | None = None

    def jpeg(self, packet: Packet, info: StreamInfo) -> bytes | None:
        """Return the keyframe's JPEG, decoding it only the first time it is asked for."""
        with self._lock:
            if packet is not self._packet:
                self._jpeg = keyframe_jpeg(packet, info)
                self._packet = packet
            return self._jpeg
