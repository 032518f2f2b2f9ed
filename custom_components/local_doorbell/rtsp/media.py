"""What an RTSP server serves: tracks (as SDP names them) and the packets of each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["video", "audio"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Track:
    """One RTP stream of a source, as SETUP addresses it (`.../trackID=<track_id>`)."""

    track_id: int
    kind: Kind
    payload_type: int
    encoding: str  # the rtpmap name: H264, H265, MPEG4-GENERIC, PCMU, PCMA
    clock_rate: int
    channels: int = 1
    fmtp: str = ""  # the format parameters, without "a=fmtp:<payload type> "
    attributes: tuple[str, ...] = ()  # more `a=` lines, as a device's own SDP carries them


@dataclass(frozen=True, slots=True)
class MediaPacket:
    """One encoded access unit (Annex-B) or audio frame, timestamped in its track's clock."""

    kind: Kind
    data: bytes
    pts: int  # in the track's RTP clock: 90 kHz for video, the sample rate for audio
    keyframe: bool
