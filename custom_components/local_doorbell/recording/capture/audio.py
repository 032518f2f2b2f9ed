"""Camera audio that MP4 players do not take (G.711 and the like), re-encoded as AAC."""

from __future__ import annotations

from fractions import Fraction

import av
from av.audio.codeccontext import AudioCodecContext
from av.audio.stream import AudioStream
from av.container import OutputContainer

from .packet import AvPacket
from .streams import StreamInfo

_AAC_FRAME = 1024  # samples per AAC-LC frame
_BIT_RATE = 32_000  # plenty for a doorbell's 8 or 16 kHz microphone


class AacTranscoder:
    """Decodes one audio stream and encodes it as AAC-LC into an output stream.

    Only audio is ever re-encoded: at 8 kHz mono it costs a fraction of a per cent of a
    core, where re-encoding video would cost a core.
    """

    def __init__(self, output: OutputContainer, info: StreamInfo) -> None:
        """Open the decoder and add an AAC stream to `output`; raise if either fails."""
        if info.audio_codec is None or not info.sample_rate:
            raise ValueError("no audio to transcode")
        layout = "stereo" if info.channels == 2 else "mono"
        decoder = av.CodecContext.create(info.audio_codec, "r")
        if not isinstance(decoder, AudioCodecContext):
            raise TypeError(f"{info.audio_codec} is not an audio codec")
        decoder.sample_rate = info.sample_rate
        decoder.layout = layout
        decoder.extradata = info.audio_extradata or None
        self._decoder = decoder
        self._output = output
        self.time_base = Fraction(1, info.sample_rate)
        self.stream: AudioStream = output.add_stream("aac", rate=info.sample_rate)
        self.stream.codec_context.layout = layout
        self.stream.codec_context.bit_rate = _BIT_RATE
        self.stream.codec_context.time_base = self.time_base
        self._resampler = av.AudioResampler("fltp", layout, info.sample_rate, _AAC_FRAME)

    def encode(self, data: AvPacket | None, pts: int = 0) -> None:
        """Mux the AAC packets that one input packet (None: the end) completes."""
        if data is None:
            frames = self._resampler.resample(None)
        else:
            frames = []
            for frame in self._decoder.decode(data):
                frame.pts = pts
                frame.time_base = self.time_base
                pts += frame.samples
                frames += self._resampler.resample(frame)
        packets = [packet for frame in frames for packet in self.stream.encode(frame)]
        if data is None:
            packets += self.stream.encode(None)
        # The encoder's priming packet starts before zero; a fragmented MP4 has no edit list
        # to hide it, so the muxer would delay the video instead.
        self._output.mux([packet for packet in packets if packet.pts is None or packet.pts >= 0])
