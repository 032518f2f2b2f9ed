"""Session descriptions (RFC 8866) as RTSP clients read them, and the codecs' format lines."""

from __future__ import annotations

import base64
from collections.abc import Iterable

from .media import Track

VIDEO_CLOCK = 90_000  # RTP clock rate of H.264 and H.265


def describe(tracks: Iterable[Track], session_id: int, name: str) -> str:
    """Return the session description of a source's tracks.

    No direction attribute: RFC 8866's default (sendrecv) is what every client assumes, and
    go2rtc takes `a=sendonly` for a backchannel it should send on.
    """
    lines = [
        "v=0",
        f"o=- {session_id} {session_id} IN IP4 0.0.0.0",
        f"s={name}",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "a=control:*",
        "a=range:npt=0-",
    ]
    for track in tracks:
        rtpmap = f"{track.encoding}/{track.clock_rate}"
        if track.kind == "audio" and (track.channels > 1 or track.encoding == "MPEG4-GENERIC"):
            rtpmap += f"/{track.channels}"
        lines += [
            f"m={track.kind} 0 RTP/AVP {track.payload_type}",
            f"a=control:trackID={track.track_id}",
            f"a=rtpmap:{track.payload_type} {rtpmap}",
        ]
        if track.fmtp:
            lines.append(f"a=fmtp:{track.payload_type} {track.fmtp}")
        lines += track.attributes
    return "\r\n".join(lines) + "\r\n"


def _base64(nal: bytes) -> str:
    return base64.b64encode(nal).decode()


def h264_fmtp(sps: bytes, pps: bytes) -> str:
    """Return H.264's format parameters (RFC 6184): non-interleaved, with the parameter sets."""
    fmtp = "packetization-mode=1"
    if len(sps) >= 4:
        fmtp += f";profile-level-id={sps[1:4].hex().upper()}"
    if sps and pps:
        fmtp += f";sprop-parameter-sets={_base64(sps)},{_base64(pps)}"
    return fmtp


def h265_fmtp(vps: bytes, sps: bytes, pps: bytes) -> str:
    """Return H.265's format parameters (RFC 7798): its three parameter sets."""
    sets = {"sprop-vps": vps, "sprop-sps": sps, "sprop-pps": pps}
    return ";".join(f"{key}={_base64(nal)}" for key, nal in sets.items() if nal)


def aac_fmtp(config: bytes) -> str:
    """Return AAC's format parameters (RFC 3640, AAC-hbr) for an AudioSpecificConfig."""
    return (
        "streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;"
        f"indexdeltalength=3;config={config.hex()}"
    )
