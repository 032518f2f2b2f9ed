"""RTP packetization: H.264 (RFC 6184), AAC (RFC 3640), G.711 and RTSP interleaving."""

from __future__ import annotations

import struct

MAX_PAYLOAD = 1400  # keeps every RTP packet inside a 1500-byte Ethernet frame

NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
_FU_A = 28
_DROPPED_NALS = frozenset({NAL_SEI, NAL_AUD})  # cameras rarely send them; clients ignore them

_START_CODE = b"\x00\x00\x01"

Payloads = list[tuple[bool, bytes]]
"""RTP payloads of one media packet, each with its marker bit."""


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
    """Return the type of a NAL unit."""
    return nal[0] & 0x1F


def h264_payloads(access_unit: bytes) -> Payloads:
    """Packetize one Annex-B access unit: single NAL units, FU-A above `MAX_PAYLOAD`."""
    payloads: Payloads = []
    for nal in split_annexb(access_unit):
        if nal_type(nal) in _DROPPED_NALS:
            continue
        if len(nal) <= MAX_PAYLOAD:
            payloads.append((False, nal))
            continue
        indicator = (nal[0] & 0xE0) | _FU_A
        body = nal[1:]
        chunk = MAX_PAYLOAD - 2
        for offset in range(0, len(body), chunk):
            fu_header = nal_type(nal)
            if offset == 0:
                fu_header |= 0x80
            if offset + chunk >= len(body):
                fu_header |= 0x40
            payloads.append((False, bytes((indicator, fu_header)) + body[offset : offset + chunk]))
    if payloads:
        payloads[-1] = (True, payloads[-1][1])  # the marker ends the access unit
    return payloads


def aac_payloads(frame: bytes) -> Payloads:
    """Packetize one raw AAC frame as AAC-hbr: one 16-bit AU header (13-bit size, index 0)."""
    return [(True, struct.pack("!HH", 16, len(frame) << 3) + frame)]


def pcmu_payloads(samples: bytes) -> Payloads:
    """Packetize G.711 µ-law samples, which need no header."""
    return [(False, samples)]


def rtp_packet(
    payload: bytes, *, payload_type: int, marker: bool, seq: int, timestamp: int, ssrc: int
) -> bytes:
    """Return an RTP packet: version 2, no padding, extension or CSRCs."""
    second = payload_type | (0x80 if marker else 0)
    return struct.pack("!BBHII", 0x80, second, seq, timestamp, ssrc) + payload


def interleaved(channel: int, packet: bytes) -> bytes:
    """Frame a packet for RTSP interleaved transport: `$`, channel, 16-bit length."""
    return struct.pack("!cBH", b"$", channel, len(packet)) + packet
