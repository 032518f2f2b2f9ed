"""The SDP a Dahua doorbell answers DESCRIBE with, and the tracks it names."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal

from .video import VIDEO_CLOCK, VideoSource

VIDEO_PT = 96
PCMU_PT = 0
AAC_PT = 97


@dataclass(frozen=True, slots=True)
class Track:
    """One RTP stream of a source, as SETUP addresses it (`.../trackID=<track_id>`)."""

    track_id: int
    kind: Literal["video", "audio"]
    payload_type: int
    clock_rate: int


def tracks(source: VideoSource) -> dict[int, Track]:
    """Return the source's tracks by id: video is 0, audio (if any) is 1."""
    found = {0: Track(0, "video", VIDEO_PT, VIDEO_CLOCK)}
    if source.audio_codec != "none":
        payload_type = PCMU_PT if source.audio_codec == "pcmu" else AAC_PT
        found[1] = Track(1, "audio", payload_type, source.audio_clock_rate)
    return found


def describe(source: VideoSource, session_id: int) -> str:
    """Return the session description of a started source."""
    sprop = b",".join(base64.b64encode(nal) for nal in (source.sps, source.pps)).decode()
    lines = [
        "v=0",
        f"o=- {session_id} {session_id} IN IP4 0.0.0.0",
        "s=Media Server",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "a=control:*",
        "a=range:npt=0-",
        f"m=video 0 RTP/AVP {VIDEO_PT}",
        "a=control:trackID=0",
        f"a=framerate:{source.fps}.000000",
        f"a=rtpmap:{VIDEO_PT} H264/{VIDEO_CLOCK}",
        f"a=fmtp:{VIDEO_PT} packetization-mode=1;profile-level-id={source.profile_level_id};"
        f"sprop-parameter-sets={sprop}",
        "a=recvonly",  # Dahua's (inverted) direction, which every client ignores
    ]
    if source.audio_codec == "pcmu":
        lines += [
            f"m=audio 0 RTP/AVP {PCMU_PT}",
            "a=control:trackID=1",
            f"a=rtpmap:{PCMU_PT} PCMU/{source.audio_clock_rate}",
            "a=recvonly",
        ]
    elif source.audio_codec == "aac":
        lines += [
            f"m=audio 0 RTP/AVP {AAC_PT}",
            "a=control:trackID=1",
            f"a=rtpmap:{AAC_PT} MPEG4-GENERIC/{source.audio_clock_rate}/1",
            f"a=fmtp:{AAC_PT} streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;"
            f"indexlength=3;indexdeltalength=3;config={source.audio_config}",
            "a=recvonly",
        ]
    return "\r\n".join(lines) + "\r\n"
