"""The simulated microphone: a beep each second, encoded as G.711 µ-law or AAC-LC."""

from __future__ import annotations

from abc import ABC, abstractmethod
from fractions import Fraction
from typing import Literal

import av
import numpy as np
from numpy.typing import NDArray

AudioCodec = Literal["none", "pcmu", "aac"]

PCMU_RATE = 8000
AAC_RATE = 16_000
_AAC_FRAME = 1024  # samples per AAC-LC frame
_AAC_RATE_INDEX = {96000: 0, 48000: 3, 44100: 4, 32000: 5, 16000: 8, 8000: 11}
_PCMU_PACKET = PCMU_RATE // 50  # 20 ms, as cameras send G.711
_TONE_HZ = 400  # divides 8 kHz evenly, so one second of PCMU repeats exactly


def aac_config(sample_rate: int = AAC_RATE, channels: int = 1) -> str:
    """Return the hex AudioSpecificConfig of AAC-LC, as SDP's `config=` carries it."""
    value = 2 << 11 | _AAC_RATE_INDEX[sample_rate] << 7 | channels << 3  # object type 2: LC
    return f"{value:04x}"


def beeps(first: int, count: int, rate: int) -> NDArray[np.float32]:
    """Return samples of a 400 Hz beep sounding for the first 200 ms of each second."""
    index = np.arange(first, first + count)
    tone = 0.3 * np.sin(2 * np.pi * _TONE_HZ * index / rate)
    return np.where(index % rate < rate // 5, tone, 0.0).astype(np.float32)


class AudioTrack(ABC):
    """Encodes the beeps packet by packet; packet `index` is due at `index * period` seconds."""

    period: float

    @abstractmethod
    def encode(self, index: int) -> list[tuple[int, bytes]]:
        """Return the (pts, data) packets that encoding packet `index` produces."""


class PcmuTrack(AudioTrack):
    """G.711 µ-law at 8 kHz in 20 ms packets; one precomputed second, repeated."""

    period = _PCMU_PACKET / PCMU_RATE

    def __init__(self) -> None:
        """Encode one second of beeps once."""
        encoder = av.CodecContext.create("pcm_mulaw", "w")
        encoder.sample_rate = PCMU_RATE
        encoder.layout = "mono"
        encoder.format = "s16"
        samples = (beeps(0, PCMU_RATE, PCMU_RATE) * 32767).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = PCMU_RATE
        second = b"".join(bytes(packet) for packet in encoder.encode(frame))
        self._packets = [second[i : i + _PCMU_PACKET] for i in range(0, len(second), _PCMU_PACKET)]

    def encode(self, index: int) -> list[tuple[int, bytes]]:
        """Return packet `index`, 160 samples."""
        return [(index * _PCMU_PACKET, self._packets[index % len(self._packets)])]


class AacTrack(AudioTrack):
    """AAC-LC, 16 kHz mono, raw frames of 1024 samples (no ADTS headers)."""

    period = _AAC_FRAME / AAC_RATE

    def __init__(self) -> None:
        """Open FFmpeg's native AAC encoder."""
        self._encoder = av.CodecContext.create("aac", "w")
        self._encoder.sample_rate = AAC_RATE
        self._encoder.layout = "mono"
        self._encoder.format = "fltp"
        self._encoder.bit_rate = 32_000
        self._encoder.time_base = Fraction(1, AAC_RATE)

    def encode(self, index: int) -> list[tuple[int, bytes]]:
        """Encode frame `index`; the encoder's priming delays its output by one frame."""
        samples = beeps(index * _AAC_FRAME, _AAC_FRAME, AAC_RATE)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = AAC_RATE
        frame.pts = index * _AAC_FRAME
        return [
            (index * _AAC_FRAME if packet.pts is None else packet.pts, bytes(packet))
            for packet in self._encoder.encode(frame)
        ]


def open_audio(codec: AudioCodec) -> AudioTrack | None:
    """Return a fresh track for this codec, or None for a camera without a microphone."""
    if codec == "pcmu":
        return PcmuTrack()
    if codec == "aac":
        return AacTrack()
    return None
