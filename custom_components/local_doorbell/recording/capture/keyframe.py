"""Pictures from the stream: clip thumbnails, the camera's snapshot cache, the press's picture.

One long-lived FFmpeg decoder per stream and one scaler; JPEGs from libjpeg-turbo, which
Home Assistant's camera already loads (its SIMD encoder takes a 1080p picture in about
3 ms, FFmpeg's in about 6), or from FFmpeg's encoder where the library is missing. Memory
is what a doorbell's pictures cost most (eight of them on a small computer): the decoder
keeps a pool of as many pictures as were ever alive at once, so only the newest is kept
while decoding, and glibc is asked to give freed memory back.
"""

from __future__ import annotations

from collections.abc import Sequence
import ctypes
from dataclasses import dataclass
from fractions import Fraction
import logging
import mmap
import threading

import av
from av.video.codeccontext import VideoCodecContext
from av.video.reformatter import VideoReformatter
import numpy as np
from turbojpeg import TJSAMP_420, TurboJPEG

from .packet import Packet
from .streams import StreamInfo

_LOGGER = logging.getLogger(__name__)

THUMBNAIL_WIDTH = 640
_QUALITY = 85
_QSCALE = 3  # FFmpeg's JPEG quantiser, 2 (best) to 31: 3 compares with quality 85
# PyAV 19 scales with a thread per core unless told otherwise, slower for one picture than
# one thread (1.6 against 2.4 ms for both sizes at 1080p); PyAV 16 has one and no argument.
_SCALER_OPTIONS = {"threads": 1} if int(av.__version__.split(".")[0]) >= 19 else {}


# glibc keeps freed memory for reuse; malloc_trim hands it back (musl has none).
_malloc_trim = getattr(ctypes.CDLL(None), "malloc_trim", None)


def _load_turbojpeg() -> TurboJPEG | None:
    """Return libjpeg-turbo, or None (logged) where it is not installed."""
    try:
        return TurboJPEG()
    except (OSError, RuntimeError) as err:
        _LOGGER.warning("libturbojpeg is missing, pictures are encoded more slowly: %s", err)
        return None


_TURBOJPEG = _load_turbojpeg()
# Filled at once (Linux): its pages are faulted in in one call, not one at a time.
_MAP_FLAGS = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_POPULATE", 0)


class KeyframeDecoder:
    """Decodes runs of one stream, each from a keyframe on, with one long-lived decoder."""

    def __init__(self, codec: str, extradata: bytes) -> None:
        """Open the decoder; raise TypeError when `codec` is not a video codec."""
        decoder = av.CodecContext.create(codec, "r")
        if not isinstance(decoder, VideoCodecContext):
            raise TypeError(f"{codec} is not a video codec")
        decoder.extradata = extradata or None
        decoder.thread_count = 1  # one picture at a time: worker threads would only wait
        self._decoder = decoder

    def decode(self, *data: bytes) -> av.VideoFrame | None:
        """Return the last picture of a keyframe and the pictures after it; None if it fails.

        Every picture of the run is decoded (each refers to the one before), which costs
        about a millisecond a picture at 1080p, against several for the keyframe.
        """
        decoder = self._decoder
        last: av.VideoFrame | None = None
        try:
            # Only the newest picture is kept: the decoder's pool grows to as many pictures
            # as are alive at once (3 MiB each at 1080p) and never shrinks.
            for packet in data:
                last = _newest(decoder.decode(av.Packet(packet)), last)
            # A decoder that holds pictures back gives them up when drained, and takes
            # packets again once flushed (which also forgets this run's references).
            last = _newest(decoder.decode(None), last)
        except av.FFmpegError:
            last = None
        decoder.flush_buffers()
        return last


def _newest(frames: Sequence[object], last: av.VideoFrame | None) -> av.VideoFrame | None:
    """Return the last picture of `frames`, else `last`."""
    for frame in reversed(frames):
        if isinstance(frame, av.VideoFrame):
            return frame
    return last


def decode_keyframe(codec: str, extradata: bytes, data: bytes) -> av.VideoFrame | None:
    """Decode one keyframe with a decoder of its own; None when it does not decode."""
    return KeyframeDecoder(codec, extradata).decode(data)


@dataclass(frozen=True, slots=True)
class Picture:
    """A JPEG of one moment of the stream."""

    jpeg: bytes
    wall: float  # time.time() when its packet arrived


class Pictures:
    """Makes JPEGs of one device's pictures, from any thread, one at a time."""

    def __init__(self) -> None:
        """Start without codecs: they open with the first picture of a stream."""
        self._lock = threading.Lock()
        self._stream: tuple[str, bytes] | None = None
        self._decoder: KeyframeDecoder | None = None
        # Its own scaler: PyAV's default is one per thread, and snapshots come from many.
        self._scaler = VideoReformatter()

    def jpeg(self, packet: Packet, info: StreamInfo, max_width: int | None = None) -> bytes | None:
        """Return a keyframe as JPEG, scaled down (never up) to `max_width`; None if it fails."""
        with self._lock:
            frame = self._decode([packet], info)
            return None if frame is None else self._encode(frame, max_width)

    def decode(self, run: Sequence[Packet], info: StreamInfo) -> av.VideoFrame | None:
        """Return the last picture of a keyframe and the video after it; None if it fails."""
        with self._lock:
            return self._decode(run, info)

    def encode(self, frame: av.VideoFrame, max_width: int | None = None) -> bytes:
        """Return a decoded picture as JPEG, scaled down (never up) to `max_width`."""
        with self._lock:
            return self._encode(frame, max_width)

    def _decode(self, run: Sequence[Packet], info: StreamInfo) -> av.VideoFrame | None:
        stream = (info.video_codec, info.video_extradata)
        if self._decoder is None or stream != self._stream:
            self._decoder = KeyframeDecoder(*stream)
            self._stream = stream
        return self._decoder.decode(*(bytes(packet.data) for packet in run))

    def _encode(self, frame: av.VideoFrame, max_width: int | None) -> bytes:
        width, height = frame.width, frame.height
        if max_width is not None and width > max_width:
            height = round(height * max_width / width)
            width = max_width
        # libjpeg-turbo reads chroma rows padded to 4 bytes: a width of eights needs none.
        width, height = max(8, width // 8 * 8), max(2, height // 2 * 2)
        # FFmpeg's scaler resizes and converts to JPEG's full range in one pass.
        picture = self._scaler.reformat(
            frame, width, height, "yuvj420p", interpolation="AREA", **_SCALER_OPTIONS
        )
        jpeg = _turbojpeg(_TURBOJPEG, picture) if _TURBOJPEG else _ffmpeg_jpeg(picture)
        if max_width is None and _malloc_trim is not None:
            del picture  # what a full-size picture held goes back
            _malloc_trim(0)
        return jpeg


def _turbojpeg(turbojpeg: TurboJPEG, picture: av.VideoFrame) -> bytes:
    """Encode a yuvj420p picture with libjpeg-turbo, from its planes copied side by side.

    They are copied into a private mapping, unmapped as soon as the array goes: glibc would
    keep a 3 MiB array for the thread that freed it (~5 MiB a doorbell more).
    """
    width, height = picture.width, picture.height
    planes = np.frombuffer(mmap.mmap(-1, width * height * 3 // 2, flags=_MAP_FLAGS), np.uint8)
    start = 0
    for plane in picture.planes:
        rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        end = start + plane.height * plane.width
        planes[start:end].reshape(plane.height, plane.width)[:] = rows[:, : plane.width]
        start = end
    jpeg: bytes = turbojpeg.encode_from_yuv(planes, height, width, _QUALITY, TJSAMP_420)
    return jpeg


def _ffmpeg_jpeg(picture: av.VideoFrame) -> bytes:
    """Encode a yuvj420p picture with FFmpeg's encoder, opened for it and closed on return.

    Returning closes it before the caller hands freed memory back (6 to 13 MiB at 1080p).
    """
    encoder = av.CodecContext.create("mjpeg", "w")
    assert isinstance(encoder, VideoCodecContext)
    encoder.width, encoder.height = picture.width, picture.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 1)
    encoder.qmin = encoder.qmax = _QSCALE
    encoder.options = {"huffman": "default"}  # the standard tables: one pass, not two
    encoder.thread_count = 1  # slice threads would cost ~25 MiB more at 1080p
    picture.pts = None
    return b"".join(bytes(out) for out in encoder.encode(picture))


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
