"""The restream's tracks: the recorder's stream parameters as SDP names them, and packetizers."""

from __future__ import annotations

from dataclasses import dataclass
import functools
import logging

from ..recording.capture.streams import StreamInfo
from .media import Kind, Track
from .rtp import (
    H265_PPS,
    H265_SPS,
    H265_VPS,
    INTERLEAVED_MAX_PAYLOAD,
    NAL_PPS,
    NAL_SPS,
    Packetizer,
    aac_payloads,
    g711_payloads,
    h264_payloads,
    h265_nal_type,
    h265_payloads,
    nal_type,
    split_annexb,
)
from .sdp import VIDEO_CLOCK, aac_fmtp, h264_fmtp, h265_fmtp

_LOGGER = logging.getLogger(__name__)

VIDEO_PT = 96
AUDIO_PT = 97  # dynamic: AAC, and G.711 at other rates than 8 kHz mono
_G711 = {"pcm_mulaw": ("PCMU", 0), "pcm_alaw": ("PCMA", 8)}  # static types, 8 kHz mono


@dataclass(frozen=True, slots=True)
class Served:
    """What the restream serves of one stream: its tracks and how each kind is packetized."""

    tracks: dict[int, Track]
    packetizers: dict[Kind, Packetizer]
    parameter_sets: bytes = b""  # Annex B, from the device's SDP
    sps_type: int = NAL_SPS

    def keyframe(self, data: bytes) -> bytes:
        """Return a keyframe with the parameter sets ahead, unless it carries them itself.

        A reader that starts at it then decodes whatever it makes of the SDP.
        """
        if any(self.nal_type(nal) == self.sps_type for nal in split_annexb(data)):
            return data
        return self.parameter_sets + data

    def nal_type(self, nal: bytes) -> int:
        """Return a NAL unit's type in the stream's codec."""
        return nal_type(nal) if self.sps_type == NAL_SPS else h265_nal_type(nal)


def served(info: StreamInfo) -> Served | None:
    """Return the tracks of a stream, or None if its video cannot be restreamed.

    Audio passes as the device sends it: AAC, G.711 µ-law or A-law; any other audio codec
    is left out (the video still plays). Video goes in RTP packets as large as interleaved
    TCP carries, not the device's MTU-sized ones.
    """
    nals = split_annexb(info.video_extradata)
    if info.video_codec == "h264":
        sets = {nal_type(nal): nal for nal in nals}
        fmtp = h264_fmtp(sets.get(NAL_SPS, b""), sets.get(NAL_PPS, b""))
        encoding, payloads = "H264", h264_payloads
    elif info.video_codec == "hevc":
        sets = {h265_nal_type(nal): nal for nal in nals}
        fmtp = h265_fmtp(*(sets.get(kind, b"") for kind in (H265_VPS, H265_SPS, H265_PPS)))
        encoding, payloads = "H265", h265_payloads
    else:
        _LOGGER.warning("Live view cannot pass on %s video", info.video_codec)
        return None
    video = Track(
        track_id=0,
        kind="video",
        payload_type=VIDEO_PT,
        encoding=encoding,
        clock_rate=VIDEO_CLOCK,
        fmtp=fmtp,
    )
    sps_type = NAL_SPS if info.video_codec == "h264" else H265_SPS
    packetizer = functools.partial(payloads, max_payload=INTERLEAVED_MAX_PAYLOAD)
    result = Served({0: video}, {"video": packetizer}, info.video_extradata, sps_type)
    audio = _audio(info)
    if audio is not None:
        result.tracks[1], result.packetizers["audio"] = audio
    return result


def _audio(info: StreamInfo) -> tuple[Track, Packetizer] | None:
    codec, rate, channels = info.audio_codec, info.sample_rate, max(info.channels, 1)
    if codec is None or not rate:
        return None
    if codec == "aac":
        encoding, payload_type, fmtp = "MPEG4-GENERIC", AUDIO_PT, aac_fmtp(info.audio_extradata)
        payloads: Packetizer = aac_payloads
    elif codec in _G711:
        encoding, static = _G711[codec]
        payload_type = static if (rate, channels) == (8000, 1) else AUDIO_PT
        fmtp, payloads = "", g711_payloads
    else:
        _LOGGER.info("Live view leaves out %s audio, which it cannot pass on", codec)
        return None
    track = Track(
        track_id=1,
        kind="audio",
        payload_type=payload_type,
        encoding=encoding,
        clock_rate=rate,
        channels=channels,
        fmtp=fmtp,
    )
    return track, payloads
