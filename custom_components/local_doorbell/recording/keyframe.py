"""Pictures from single keyframes: clip thumbnails and the camera's snapshot cache.

Everything stays in FFmpeg: one long-lived decoder per stream, its scaler, and one
long-lived JPEG encoder per picture size. Opening those costs more than using them, and an
imaging library would add its own start-up to the first picture.
"""

from __future__ import annotations

from fractions import Fraction
import threading

import av
from av.codec.context import ThreadType
from av.video.codeccontext import VideoCodecContext

from .packet import Packet
from .streams import StreamInfo

THUMBNAIL_WIDTH = 640
_QSCALE = 3  # FFmpeg's JPEG quantiser, 2 (best) to 31: 3 compares with quality 85 elsewhere
_SLICES = 2  # threads: a full-size snapshot is encoded in slices side by side


class KeyframeDecoder:
    """Decodes keyframes of one stream, each on its own, with one long-lived decoder."""

    def __init__(self, codec: str, extradata: bytes) -> None:
        """Open the decoder; raise TypeError when `codec` is not a video codec."""
        decoder = av.CodecContext.create(codec, "r")
        if not isinstance(decoder, VideoCodecContext):
            raise TypeError(f"{codec} is not a video codec")
        decoder.extradata = extradata or None
        decoder.thread_count = 1  # one picture at a time: worker threads would only wait
        self._decoder = decoder

    def decode(self, data: bytes) -> av.VideoFrame | None:
        """Return the keyframe's picture; None when it does not decode."""
        decoder = self._decoder
        try:
            frames: list[object] = [*decoder.decode(av.Packet(data))]
            if not frames:  # a decoder that holds pictures back gives them up when drained
                frames = [*decoder.decode(None)]
                decoder.flush_buffers()  # and takes packets again once flushed
        except av.FFmpegError:
            decoder.flush_buffers()
            return None
        return next((f for f in frames if isinstance(f, av.VideoFrame)), None)


def decode_keyframe(codec: str, extradata: bytes, data: bytes) -> av.VideoFrame | None:
    """Decode one keyframe with a decoder of its own; None when it does not decode."""
    return KeyframeDecoder(codec, extradata).decode(data)


class Pictures:
    """Makes JPEGs of one device's keyframes, from any thread, one at a time."""

    def __init__(self) -> None:
        """Start without codecs: they open with the first picture of a stream."""
        self._lock = threading.Lock()
        self._stream: tuple[str, bytes] | None = None
        self._decoder: KeyframeDecoder | None = None
        self._encoders: dict[tuple[int, int], VideoCodecContext] = {}

    def jpeg(self, packet: Packet, info: StreamInfo, max_width: int | None = None) -> bytes | None:
        """Return a keyframe as JPEG, scaled down (never up) to `max_width`; None if it fails."""
        with self._lock:
            frame = self._decoder_for(info).decode(bytes(packet.data))
            if frame is None:
                return None
            width, height = frame.width, frame.height
            if max_width is not None and width > max_width:
                height = max(2, round(height * max_width / width / 2) * 2)
                width = max_width
            # FFmpeg's scaler resizes and converts to JPEG's full range in one pass.
            picture = frame.reformat(width, height, "yuvj420p", interpolation="AREA")
            picture.pts = None
            encoder = self._encoder(width, height)
            return b"".join(bytes(out) for out in encoder.encode(picture))

    def _decoder_for(self, info: StreamInfo) -> KeyframeDecoder:
        stream = (info.video_codec, info.video_extradata)
        if self._decoder is None or stream != self._stream:
            self._decoder = KeyframeDecoder(*stream)
            self._stream = stream
            self._encoders.clear()
        return self._decoder

    def _encoder(self, width: int, height: int) -> VideoCodecContext:
        encoder = self._encoders.get((width, height))
        if encoder is None:
            created = av.CodecContext.create("mjpeg", "w")
            assert isinstance(created, VideoCodecContext)
            encoder = created
            encoder.width, encoder.height = width, height
            encoder.pix_fmt = "yuvj420p"
            encoder.time_base = Fraction(1, 1)
            encoder.qmin = encoder.qmax = _QSCALE
            encoder.options = {"huffman": "default"}  # the standard tables: one pass, not two
            if width > THUMBNAIL_WIDTH:
                encoder.thread_type = ThreadType.SLICE
                encoder.thread_count = _SLICES
            self._encoders[width, height] = encoder
        return encoder


class SnapshotCache:
    """The JPEG of the newest keyframe, made on first request and kept until the next one."""

    def __init__(self, pictures: Pictures) -> None:
        """Start empty; pictures are made with `pictures`."""
        self._pictures = pictures
        self._lock = threading.Lock()
        self._packet: Packet | None = None
        self._jpeg: bytes | None = None

    def jpeg(self, packet: Packet, info: StreamInfo) -> bytes | None:
        """Return the keyframe's JPEG, decoding it only the first time it is asked for."""
        with self._lock:
            if packet is not self._packet:
                self._jpeg = self._pictures.jpeg(packet, info)
                self._packet = packet
            return self._jpeg
