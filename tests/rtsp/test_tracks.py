"""The restream's tracks and packetizers, for the codecs the simulator does not send."""

from __future__ import annotations

from fractions import Fraction
import struct

import pytest

from custom_components.local_doorbell.recording.capture.streams import StreamInfo
from custom_components.local_doorbell.rtsp.rtp import (
    MAX_PAYLOAD,
    h265_nal_type,
    h265_payloads,
    rtcp_keepalive,
)
from custom_components.local_doorbell.rtsp.tracks import served

START = b"\x00\x00\x00\x01"
SPS = bytes((0x67, 0x42, 0xC0, 0x1F, 0xAB))
PPS = bytes((0x68, 0xCE, 0x3C, 0x80))
VPS, HSPS, HPPS = bytes((0x40, 0x01, 0x0C)), bytes((0x42, 0x01, 0x01)), bytes((0x44, 0x01, 0xC1))


def info(
    video: str = "h264", extradata: bytes = START + SPS + START + PPS, **audio: object
) -> StreamInfo:
    return StreamInfo(
        video_codec=video,
        width=320,
        height=240,
        video_extradata=extradata,
        video_time_base=Fraction(1, 90_000),
        **audio,  # type: ignore[arg-type]
    )


def test_h264_names_its_parameter_sets() -> None:
    result = served(info())
    assert result is not None
    video = result.tracks[0]
    assert (video.encoding, video.payload_type, video.clock_rate) == ("H264", 96, 90_000)
    assert video.fmtp == (
        "packetization-mode=1;profile-level-id=42C01F;sprop-parameter-sets=Z0LAH6s=,aM48gA=="
    )
    assert list(result.tracks) == [0]


def test_h265_names_its_three_parameter_sets() -> None:
    result = served(info("hevc", START + VPS + START + HSPS + START + HPPS))
    assert result is not None
    assert result.tracks[0].encoding == "H265"
    assert result.tracks[0].fmtp == "sprop-vps=QAEM;sprop-sps=QgEB;sprop-pps=RAHB"


def test_other_video_is_not_served(caplog: pytest.LogCaptureFixture) -> None:
    assert served(info("mjpeg", b"")) is None
    assert "cannot pass on mjpeg" in caplog.text


@pytest.mark.parametrize(
    ("codec", "rate", "channels", "expected"),
    [
        ("pcm_alaw", 8000, 1, ("PCMA", 8, 8000, 1)),
        ("pcm_mulaw", 8000, 1, ("PCMU", 0, 8000, 1)),
        ("pcm_mulaw", 16000, 2, ("PCMU", 97, 16000, 2)),
        ("aac", 48000, 2, ("MPEG4-GENERIC", 97, 48000, 2)),
    ],
)
def test_audio_passes_as_sent(
    codec: str, rate: int, channels: int, expected: tuple[str, int, int, int]
) -> None:
    result = served(
        info(audio_codec=codec, sample_rate=rate, channels=channels, audio_extradata=b"\x11\x90")
    )
    assert result is not None
    audio = result.tracks[1]
    assert (audio.encoding, audio.payload_type, audio.clock_rate, audio.channels) == expected
    assert ("config=1190" in audio.fmtp) == (codec == "aac")


def test_other_audio_is_left_out() -> None:
    result = served(info(audio_codec="adpcm_g726", sample_rate=8000, channels=1))
    assert result is not None
    assert list(result.tracks) == [0]


def test_h265_fragments_rebuild_the_nal() -> None:
    nal = bytes((0x26, 0x01)) + bytes(range(256)) * 20  # an IDR slice (type 19), 5 kB
    aud = bytes((0x46, 0x01, 0x50))  # an access unit delimiter: dropped
    payloads = h265_payloads(START + aud + START + HSPS + START + nal)
    assert payloads[0] == (False, HSPS)
    fragments = [payload for _, payload in payloads[1:]]
    assert all(len(payload) <= MAX_PAYLOAD for payload in fragments)
    assert all(h265_nal_type(payload) == 49 for payload in fragments)
    assert [p[2] & 0xC0 for p in fragments] == [0x80] + [0] * (len(fragments) - 2) + [0x40]
    assert {p[2] & 0x3F for p in fragments} == {19}
    rebuilt = nal[:2] + b"".join(p[3:] for p in fragments)
    assert rebuilt == nal
    assert [marker for marker, _ in payloads] == [False] * (len(payloads) - 1) + [True]


def test_rtcp_keepalive_is_a_receiver_report_and_sdes() -> None:
    packet = rtcp_keepalive(0x12345678, b"local-doorbell")
    report_words = struct.unpack("!H", packet[2:4])[0]
    report = packet[: 4 * (report_words + 1)]
    sdes = packet[len(report) :]
    assert report == bytes((0x80, 201)) + b"\x00\x01" + bytes.fromhex("12345678")
    assert sdes[1] == 202
    assert len(sdes) == 4 * (struct.unpack("!H", sdes[2:4])[0] + 1)
    assert sdes[8:10] == bytes((1, len(b"local-doorbell")))
    assert sdes[10:24] == b"local-doorbell"
    assert sdes[24:] == b"\x00" * (len(sdes) - 24)
