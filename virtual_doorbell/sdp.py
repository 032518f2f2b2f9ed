"""The tracks a Dahua doorbell's SDP names, with the attributes its firmware adds."""

from __future__ import annotations

from custom_components.local_doorbell.rtsp.media import Track
from custom_components.local_doorbell.rtsp.sdp import VIDEO_CLOCK, aac_fmtp, h264_fmtp

from .video import VideoSource

VIDEO_PT = 96
_AUDIO = {"pcmu": (0, "PCMU"), "aac": (97, "MPEG4-GENERIC")}  # payload type, rtpmap name
_DAHUA_DIRECTION = "a=recvonly"  # Dahua's (inverted) direction, which clients ignore


def tracks(source: VideoSource) -> dict[int, Track]:
    """Return a started source's tracks by id: video is 0, audio (if any) is 1."""
    found = {
        0: Track(
            track_id=0,
            kind="video",
            payload_type=VIDEO_PT,
            encoding="H264",
            clock_rate=VIDEO_CLOCK,
            fmtp=h264_fmtp(source.sps, source.pps),
            attributes=(f"a=framerate:{source.fps}.000000", _DAHUA_DIRECTION),
        )
    }
    if source.audio_codec != "none":
        payload_type, encoding = _AUDIO[source.audio_codec]
        config = source.audio_config  # AAC's AudioSpecificConfig; PCMU has none
        found[1] = Track(
            track_id=1,
            kind="audio",
            payload_type=payload_type,
            encoding=encoding,
            clock_rate=source.audio_clock_rate,
            fmtp=aac_fmtp(bytes.fromhex(config)) if config else "",
            attributes=(_DAHUA_DIRECTION,),
        )
    return found
