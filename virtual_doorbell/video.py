"""A live camera source: a drawn picture encoded to H.264 in real time, with optional audio."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
import io
import logging
import math
import threading
import time

import av
from av.video.codeccontext import VideoCodecContext
from PIL import Image

from custom_components.local_doorbell.rtsp.media import MediaPacket
from custom_components.local_doorbell.rtsp.rtp import NAL_PPS, NAL_SPS, nal_type, split_annexb
from custom_components.local_doorbell.rtsp.sdp import VIDEO_CLOCK

from .audio import AAC_RATE, PCMU_RATE, AudioCodec, AudioTrack, aac_config, open_audio
from .picture import PictureMaker, read_frame_counter

__all__ = ["VIDEO_CLOCK", "MediaPacket", "PacketCallback", "VideoSource", "read_frame_counter"]

_LOGGER = logging.getLogger(__name__)

_MAX_LAG = 0.5  # seconds behind schedule before skipping ahead, as a busy camera drops frames

PacketCallback = Callable[[MediaPacket], None]
"""Receives every packet, on the source's thread; it must return quickly."""


class VideoSource:
    """Encodes the test picture (and beeps) in real time on a daemon thread and fans it out."""

    def __init__(
        self,
        width: int = 1920,
        height: int = 1080,
        fps: int = 15,
        *,
        gop_seconds: float = 2.0,
        bitrate: int = 2_000_000,
        audio: AudioCodec = "none",
    ) -> None:
        """Describe the stream; nothing is encoded before `start()`."""
        self.width = width
        self.height = height
        self.fps = fps
        self.gop = max(1, round(gop_seconds * fps))
        self.bitrate = bitrate
        self.audio_codec: AudioCodec = audio
        self._picture = PictureMaker(width, height, fps)
        self._subscribers: tuple[PacketCallback, ...] = ()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._epoch = 0.0
        self._sps = b""
        self._pps = b""
        self._latest: av.VideoFrame | None = None

    @property
    def sps(self) -> bytes:
        """Return the sequence parameter set, without start code (known once started)."""
        return self._sps

    @property
    def pps(self) -> bytes:
        """Return the picture parameter set, without start code (known once started)."""
        return self._pps

    @property
    def profile_level_id(self) -> str:
        """Return the SPS's profile, constraints and level as SDP's six hex digits."""
        return self._sps[1:4].hex().upper()

    @property
    def audio_clock_rate(self) -> int:
        """Return the audio RTP clock rate (0 without audio)."""
        return {"none": 0, "pcmu": PCMU_RATE, "aac": AAC_RATE}[self.audio_codec]

    @property
    def audio_config(self) -> str:
        """Return the hex AudioSpecificConfig for AAC (empty otherwise)."""
        return aac_config() if self.audio_codec == "aac" else ""

    def stream_time(self) -> float:
        """Return the seconds since pts 0, on the clock that paces the packets."""
        return time.monotonic() - self._epoch

    def current_frame(self) -> int:
        """Return the number of the picture due now: the counter drawn on it."""
        return int(self.stream_time() * self.fps)

    def subscribe(self, callback: PacketCallback) -> None:
        """Send every future packet to `callback` (on the source's thread)."""
        with self._lock:
            self._subscribers = (*self._subscribers, callback)

    def unsubscribe(self, callback: PacketCallback) -> None:
        """Stop sending packets to `callback`."""
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s != callback)

    def start(self) -> None:
        """Encode the first picture (so SPS and PPS are known) and start the paced thread."""
        if self._thread is not None:
            raise RuntimeError("already started")
        encoder = self._open_encoder()
        audio = open_audio(self.audio_codec)
        self._stopping.clear()
        self._epoch = time.monotonic()
        wall_epoch = time.time()
        first = self._encode(encoder, 0, wall_epoch)
        for nal in split_annexb(first[0].data):
            if nal_type(nal) == NAL_SPS:
                self._sps = nal
            elif nal_type(nal) == NAL_PPS:
                self._pps = nal
        self._thread = threading.Thread(
            target=self._run,
            args=(encoder, audio, first, wall_epoch),
            name=f"video-{self.width}x{self.height}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join()
        self._thread = None

    def snapshot_jpeg(self) -> bytes:
        """Return a JPEG of the most recent picture."""
        frame = self._latest
        if frame is None:
            raise RuntimeError("the source has not started")
        buffer = io.BytesIO()
        Image.fromarray(frame.to_ndarray(format="rgb24")).save(buffer, "JPEG", quality=85)
        return buffer.getvalue()

    def _open_encoder(self) -> VideoCodecContext:
        """Open x264 the way a camera's encoder behaves: constant GOP, no B-frames, low delay."""
        encoder = av.CodecContext.create("libx264", "w")
        encoder.width = self.width
        encoder.height = self.height
        encoder.pix_fmt = "yuv420p"
        encoder.time_base = Fraction(1, self.fps)
        encoder.framerate = Fraction(self.fps)
        encoder.bit_rate = self.bitrate
        kbps = self.bitrate // 1000
        encoder.gop_size = self.gop
        encoder.max_b_frames = 0
        # One thread means one slice per picture and the least CPU; ultrafast keeps up at 1080p.
        encoder.thread_count = 1
        encoder.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "profile": "baseline",
            # Keyframes only every GOP, and constant bit rate (padded with filler data when
            # the picture needs fewer bits), as cameras send: the stream is `bitrate`.
            "x264-params": f"scenecut=0:nal-hrd=cbr:vbv-maxrate={kbps}:vbv-bufsize={kbps}",
        }
        encoder.open()
        return encoder

    def _encode(
        self, encoder: VideoCodecContext, number: int, wall_time: float
    ) -> list[MediaPacket]:
        """Draw and encode picture `number`."""
        frame = av.VideoFrame.from_ndarray(
            self._picture.render(number, wall_time), format="yuv420p"
        )
        frame.pts = number
        self._latest = frame
        return [
            MediaPacket(
                "video", bytes(packet), number * VIDEO_CLOCK // self.fps, packet.is_keyframe
            )
            for packet in encoder.encode(frame)
        ]

    def _run(
        self,
        encoder: VideoCodecContext,
        audio: AudioTrack | None,
        pending: list[MediaPacket],
        wall_epoch: float,
    ) -> None:
        """Publish each packet when due: picture n at n / fps, audio packet k at k * period."""
        picture = chunk = 0
        while True:
            video_at = picture / self.fps
            audio_at = chunk * audio.period if audio else math.inf
            if self._stopping.wait(max(0.0, min(video_at, audio_at) - self.stream_time())):
                return
            if video_at <= audio_at:
                self._publish(pending)
                picture = self._catch_up(picture + 1, self.fps)
                pending = self._encode(encoder, picture, wall_epoch + picture / self.fps)
            elif audio:
                self._publish(
                    [MediaPacket("audio", data, pts, False) for pts, data in audio.encode(chunk)]
                )
                chunk = self._catch_up(chunk + 1, 1 / audio.period)

    def _catch_up(self, index: int, rate: float) -> int:
        """Return `index`, or the current one if the thread fell too far behind."""
        now = self.stream_time()
        return index if now - index / rate < _MAX_LAG else int(now * rate)

    def _publish(self, packets: list[MediaPacket]) -> None:
        """Hand packets to every subscriber; one failing must not stop the others or the clock."""
        for callback in self._subscribers:
            for packet in packets:
                try:
                    callback(packet)
                except Exception:
                    _LOGGER.exception("Packet subscriber %r failed", callback)
