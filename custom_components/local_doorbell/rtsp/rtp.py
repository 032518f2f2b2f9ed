"""RTP packetization: H.264 (RFC 6184), H.265 (RFC 7798), AAC (RFC 3640), G.711, and RTCP."""

from __future__ import annotations

from collections.abc import Callable
import struct

MAX_PAYLOAD = 1400  # keeps every RTP packet inside a 1500-byte Ethernet frame, as devices do
RTP_HEADER = 12
# Interleaved over TCP no MTU applies, only the frame's 16-bit length: payloads this large
# cut the packets (and the Python per packet) some 40-fold. FFmpeg, GStreamer and go2rtc
# read them.
INTERLEAVED_MAX_PAYLOAD = 0xFFFF - RTP_HEADER

NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
_FU_A = 28
_DROPPED_NALS = frozenset({NAL_SEI, NAL_AUD})  # cameras rarely send them; clients ignore them

H265_VPS = 32
H265_SPS = 33
H265_PPS = 34
_H265_AUD = 35
_H265_FU = 49

_START_CODE = b"\x00\x00\x01"
_RTCP_RR = 201
_RTCP_SDES = 202
_SDES_CNAME = 1

Payloads = list[tuple[bool, bytes]]
"""RTP payloads of one media packet, each with its marker bit."""

Packetizer = Callable[[bytes], Payloads]
"""Turns one media packet's data into RTP payloads."""

_INTERLEAVED_RTP = struct.Struct("!cBHBBHII")  # `$`, channel, length, then the RTP header


def split_annexb(data: bytes) -> list[bytes]:
    """Return the NAL units of an Annex-B byte stream, without start codes."""
    nals: list[bytes] = []
    start = data.find(_START_CODE)
    while start >= 0:
        begin = start + len(_START_CODE)
        start = data.find(_START_CODE, begin)
        # A 4-byte start code leaves its leading zero at the end of the previous NAL.
        nal = data[begin:] if start < 0 else data[begin:start].rstrip(b"\x00")
        if nal:
            nals.append(nal)
    return nals


def nal_type(nal: bytes) -> int:
    """Return the type of an H.264 NAL unit."""
    return nal[0] & 0x1F


def h265_nal_type(nal: bytes) -> int:
    """Return the type of an H.265 NAL unit."""
    return (nal[0] >> 1) & 0x3F


def h264_payloads(access_unit: bytes, max_payload: int = MAX_PAYLOAD) -> Payloads:
    """Packetize one Annex-B access unit: single NAL units, FU-A above `max_payload`."""
    payloads: Payloads = []
    for nal in split_annexb(access_unit):
        kind = nal_type(nal)
        if kind in _DROPPED_NALS:
            continue
        # FU indicator (the NAL's F and NRI bits, type 28), then the FU header's type.
        indicator = bytes(((nal[0] & 0xE0) | _FU_A,))
        _fragment(payloads, nal, 1, indicator, kind, max_payload=max_payload)
    return _marked(payloads)


def h265_payloads(access_unit: bytes, max_payload: int = MAX_PAYLOAD) -> Payloads:
    """Packetize one Annex-B H.265 access unit: single NAL units, FUs above `max_payload`."""
    payloads: Payloads = []
    for nal in split_annexb(access_unit):
        kind = h265_nal_type(nal)
        if kind == _H265_AUD or len(nal) < 2:
            continue
        # The payload header: the NAL's own header with type 49 (F, layer and TID kept).
        header = bytes(((nal[0] & 0x81) | (_H265_FU << 1), nal[1]))
        _fragment(payloads, nal, 2, header, kind, max_payload=max_payload)
    return _marked(payloads)


def _fragment(
    payloads: Payloads, nal: bytes, header_size: int, header: bytes, kind: int, *, max_payload: int
) -> None:
    """Add a NAL unit whole, or in fragmentation units: start (0x80) and end (0x40) marked."""
    if len(nal) <= max_payload:
        payloads.append((False, nal))
        return
    body = nal[header_size:]
    chunk = max_payload - header_size - 1
    for offset in range(0, len(body), chunk):
        fu_header = kind
        if offset == 0:
            fu_header |= 0x80
        if offset + chunk >= len(body):
            fu_header |= 0x40
        payloads.append((False, header + bytes((fu_header,)) + body[offset : offset + chunk]))


def _marked(payloads: Payloads) -> Payloads:
    if payloads:
        payloads[-1] = (True, payloads[-1][1])  # the marker ends the access unit
    return payloads


def aac_payloads(frame: bytes) -> Payloads:
    """Packetize one raw AAC frame as AAC-hbr: one 16-bit AU header (13-bit size, index 0)."""
    return [(True, struct.pack("!HH", 16, len(frame) << 3) + frame)]


def g711_payloads(samples: bytes) -> Payloads:
    """Packetize G.711 samples (µ-law or A-law), which need no header."""
    return [(False, samples)]


def interleaved_rtp(
    frames: list[bytes | memoryview],
    payloads: Payloads,
    *,
    channel: int,
    payload_type: int,
    seq: int,
    timestamp: int,
    ssrc: int,
) -> int:
    """Add interleaved RTP packets, header and payload apart, to `frames`; return the next seq.

    Version 2, no padding, extension or CSRCs; the marker as the payload says. The payloads
    are not copied: the socket gathers them (`writelines`).
    """
    pack = _INTERLEAVED_RTP.pack
    for marker, payload in payloads:
        second = payload_type | 0x80 if marker else payload_type
        frames.append(
            pack(b"$", channel, RTP_HEADER + len(payload), 0x80, second, seq, timestamp, ssrc)
        )
        frames.append(payload)
        seq = (seq + 1) & 0xFFFF
    return seq


def interleaved(channel: int, packet: bytes) -> bytes:
    """Frame a packet for RTSP interleaved transport: `$`, channel, 16-bit length."""
    return struct.pack("!cBH", b"$", channel, len(packet)) + packet


def rtcp_keepalive(ssrc: int, cname: bytes) -> bytes:
    """Return a compound RTCP packet with no timing in it: an empty receiver report and SDES.

    Clients read it as a sign of life (resetting their read timeouts) and nothing else:
    FFmpeg skips both types, where a sender report would re-time its packets.
    """
    report = struct.pack("!BBHI", 0x80, _RTCP_RR, 1, ssrc)
    item = bytes((_SDES_CNAME, len(cname))) + cname
    item += b"\x00" * (4 - len(item) % 4)  # the item list ends with a zero, padded to 32 bits
    sdes = struct.pack("!BBHI", 0x81, _RTCP_SDES, (4 + len(item)) // 4, ssrc) + item
    return report + sdes
