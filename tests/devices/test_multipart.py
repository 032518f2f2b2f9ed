"""The multipart parser, fed the bytes real firmware sends, cut and garbled every way."""

from __future__ import annotations

from collections.abc import Callable
import random
import re

import pytest

from custom_components.local_doorbell.devices.multipart import (
    DEFAULT_BOUNDARY,
    MultipartParser,
    _BlankLineScan,
    boundary_from_content_type,
)
from virtual_doorbell.events import GARBAGE, STRAY_HTTP_LINE, format_part

MOTION = 'Code=VideoMotion;action=Start;index=0;data={\n   "Id" : [ 0 ]\n}'
PRESS = 'Code=CallNoAnswered;action=Start;index=0;data={\n   "CallID" : "abc"\n}'


def part(body: str, *, length: str | None = None, boundary: str = "--myboundary") -> bytes:
    """Return one part with the given Content-Length header value (None: no header)."""
    header = "" if length is None else f"Content-Length:{length}\r\n"
    return f"{boundary}\r\nContent-Type: text/plain\r\n{header}\r\n{body}\r\n".encode()


def feed_all(parser: MultipartParser, chunks: list[bytes]) -> list[str]:
    """Feed chunks one after another and collect every body."""
    bodies: list[str] = []
    for chunk in chunks:
        bodies += parser.feed(chunk)
    return bodies


# A stream with every quirk: both Content-Length spellings, a stray status line, a part
# without a length, multi-line JSON, and a final heartbeat that closes the length-less part.
QUIRKY_STREAM = (
    STRAY_HTTP_LINE
    + format_part("Heartbeat", spaced=False)
    + format_part(MOTION, spaced=True)
    + STRAY_HTTP_LINE
    + format_part(PRESS, spaced=False)
    + part("Code=VideoMotion;action=Stop;index=0")
    + format_part("Heartbeat", spaced=True)
)
QUIRKY_BODIES = [
    "Heartbeat",
    MOTION,
    PRESS,
    "Code=VideoMotion;action=Stop;index=0",
    "Heartbeat",
]


@pytest.mark.parametrize("spaced", [False, True])
def test_content_length_with_and_without_space(spaced: bool) -> None:
    parser = MultipartParser()
    assert parser.feed(format_part(MOTION, spaced=spaced)) == [MOTION]
    assert parser.buffered <= 2


def test_body_with_length_is_delivered_without_waiting_for_the_next_part() -> None:
    parser = MultipartParser()
    data = format_part(PRESS, spaced=False)
    # Everything but the trailing CRLF: the length alone says the body is complete.
    assert parser.feed(data[:-2]) == [PRESS]


def test_body_without_length_waits_for_the_next_boundary() -> None:
    parser = MultipartParser()
    assert parser.feed(part("motionsensor:H")) == []
    assert parser.feed(b"--myboundary\r\n") == ["motionsensor:H"]


def test_stray_status_line_inside_headers() -> None:
    data = b"--myboundary\r\nHTTP/1.1 200 OK\r\n\r\nContent-Length:9\r\n\r\nHeartbeat\r\n"
    assert MultipartParser().feed(data) == ["Heartbeat"]


def test_stray_status_line_after_a_body_without_length() -> None:
    data = part("doorbell:H") + STRAY_HTTP_LINE + format_part("x", spaced=False)
    assert MultipartParser().feed(data) == ["doorbell:H", "x"]


def test_simulator_garbage_is_survived() -> None:
    parser = MultipartParser()
    bodies = feed_all(parser, [*GARBAGE, format_part(PRESS, spaced=False)])
    # The garbage parts come out as bodies the event parser rejects; the press survives.
    assert bodies == [
        "Code=",
        "Code=VideoMotion;action=Start;data={bad",
        "Not an event at all",
        PRESS,
    ]
    assert parser.buffered <= 2


def test_bad_content_length_falls_back_to_the_boundary() -> None:
    data = part("Code=VideoMotion", length="oops") + format_part("Heartbeat", spaced=False)
    assert MultipartParser().feed(data) == ["Code=VideoMotion", "Heartbeat"]


def test_content_length_running_into_the_next_part() -> None:
    data = part("Code=Short", length="400") + format_part(PRESS, spaced=False)
    assert MultipartParser().feed(data) == ["Code=Short", PRESS]


def test_content_length_too_short_loses_only_that_part() -> None:
    data = part("Heartbeat", length="5") + format_part(PRESS, spaced=True)
    assert MultipartParser().feed(data) == ["Heart", PRESS]


def test_content_length_larger_than_the_buffer_is_ignored() -> None:
    parser = MultipartParser(max_buffer=1024)
    data = part("Heartbeat", length="999999") + format_part(PRESS, spaced=False)
    assert parser.feed(data) == ["Heartbeat", PRESS]


def test_part_without_blank_line_is_abandoned() -> None:
    data = b"--myboundary\r\nContent-Type: text/plain\r\n" + format_part(PRESS, spaced=False)
    assert MultipartParser().feed(data) == [PRESS]


def test_non_utf8_bytes_are_replaced() -> None:
    data = part("Code=\xff").replace("\xff".encode(), b"\xff\xfe")
    bodies = MultipartParser().feed(data + b"--myboundary\r\n")
    assert bodies == ["Code=\ufffd\ufffd"]


def test_empty_bodies_are_skipped() -> None:
    data = part("", length="0") + part("   ") + format_part("x", spaced=False)
    assert MultipartParser().feed(data) == ["x"]


def test_garbage_without_boundary_keeps_the_buffer_small() -> None:
    parser = MultipartParser()
    for _ in range(100):
        assert parser.feed(b"\x00\xffjunk" * 300) == []
    assert parser.buffered < len(b"--myboundary")
    assert parser.feed(format_part(PRESS, spaced=False)) == [PRESS]


def test_oversized_body_is_dropped_and_the_parser_resyncs() -> None:
    parser = MultipartParser(max_buffer=4096)
    assert parser.feed(part("")[:-2]) == []
    for _ in range(10):
        assert parser.feed(b"x" * 1000) == []
        assert parser.buffered <= 4096
    assert parser.feed(b"\r\n" + format_part(PRESS, spaced=False)) == [PRESS]


def test_oversized_header_line_is_dropped() -> None:
    parser = MultipartParser(max_buffer=4096)
    parser.feed(b"--myboundary\r\nX-Long: " + b"y" * 5000)
    assert parser.buffered < 4096
    assert parser.feed(b"\r\n\r\n" + format_part(PRESS, spaced=False)) == [PRESS]


def test_boundary_line_never_ending_is_dropped() -> None:
    parser = MultipartParser(max_buffer=4096)
    parser.feed(b"--myboundary" + b"z" * 5000)
    assert parser.buffered < 4096
    assert parser.feed(b"\r\n" + format_part(PRESS, spaced=False)) == [PRESS]


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        (None, DEFAULT_BOUNDARY),
        ("multipart/x-mixed-replace", DEFAULT_BOUNDARY),
        ("multipart/x-mixed-replace; boundary=myboundary", "myboundary"),
        ('multipart/x-mixed-replace; Boundary="other"', "other"),
        ("multipart/x-mixed-replace;boundary=--ioboundary", "--ioboundary"),
        ("multipart/x-mixed-replace; charset=utf-8; boundary=", DEFAULT_BOUNDARY),
    ],
)
def test_boundary_from_content_type(content_type: str | None, boundary: str) -> None:
    assert boundary_from_content_type(content_type) == boundary


def test_doorbird_boundary_with_leading_dashes() -> None:
    parser = MultipartParser("--ioboundary")
    stream = (
        b"--ioboundary\r\nContent-Type: text/plain\r\n\r\ndoorbell:H\r\n\r\n"
        b"--ioboundary\r\nContent-Type: text/plain\r\n\r\nmotionsensor:L\r\n\r\n"
        b"--ioboundary\r\n"
    )
    assert feed_all(parser, [bytes([b]) for b in stream]) == ["doorbell:H", "motionsensor:L"]


def test_other_boundaries_are_not_parts() -> None:
    parser = MultipartParser("other")
    assert parser.feed(format_part(PRESS, spaced=False)) == []
    assert parser.feed(part(PRESS, length=str(len(PRESS)), boundary="--other")) == [PRESS]


# DoorBird: parts without Content-Length that end at a blank line, long before the next boundary.
DOORBIRD_STREAM = (
    b"--ioboundary\r\nContent-Type: text/plain\r\n\r\ndoorbell:L\r\n\r\n"
    b"--ioboundary\r\nContent-Type: text/plain\r\n\r\nmotionsensor:H\r\n\r\n"
    b"--ioboundary\r\nContent-Type: text/plain\r\n\r\n\r\ndoorbell:H\n\n"
)
DOORBIRD_BODIES = ["doorbell:L", "motionsensor:H", "doorbell:H"]


def doorbird_parser() -> MultipartParser:
    """Return a parser set up the way the DoorBird driver sets it up."""
    return MultipartParser("--ioboundary", blank_line_ends_body=True)


# Each stream gives the same bodies read whole, byte by byte, and cut in two anywhere.
STREAMS = pytest.mark.parametrize(
    ("parser", "stream", "bodies"),
    [
        (MultipartParser, QUIRKY_STREAM, QUIRKY_BODIES),
        (doorbird_parser, DOORBIRD_STREAM, DOORBIRD_BODIES),  # the last body has no boundary after
    ],
    ids=["quirky", "doorbird"],
)


@STREAMS
def test_several_parts_in_one_read(
    parser: Callable[[], MultipartParser], stream: bytes, bodies: list[str]
) -> None:
    assert parser().feed(stream) == bodies


@STREAMS
def test_byte_by_byte(
    parser: Callable[[], MultipartParser], stream: bytes, bodies: list[str]
) -> None:
    assert feed_all(parser(), [bytes([b]) for b in stream]) == bodies


@STREAMS
def test_split_at_every_position(
    parser: Callable[[], MultipartParser], stream: bytes, bodies: list[str]
) -> None:
    for cut in range(len(stream) + 1):
        assert feed_all(parser(), [stream[:cut], stream[cut:]]) == bodies, cut


def test_blank_line_waits_for_the_text_to_end() -> None:
    parser = doorbird_parser()
    assert parser.feed(b"--ioboundary\r\n\r\ndoorbell:H\r\n") == []
    assert parser.feed(b" \t\r\n") == ["doorbell:H"]


def test_boundary_before_any_blank_line_still_ends_a_body() -> None:
    data = b"--ioboundary\r\n\r\ndoorbell:H\r\n--ioboundary\r\n\r\nmotionsensor:L\r\n\r\n"
    assert doorbird_parser().feed(data) == ["doorbell:H", "motionsensor:L"]


def test_blank_lines_inside_a_dahua_body_by_default() -> None:
    data = part("Code=VideoMotion;data={\n\n}") + b"--myboundary\r\n"
    assert MultipartParser().feed(data) == ["Code=VideoMotion;data={\n\n}"]


def test_content_length_wins_over_a_blank_line() -> None:
    body = "Code=A\r\n\r\nrest"
    data = part(body, length=str(len(body)), boundary="--ioboundary")
    assert doorbird_parser().feed(data) == [body]


def test_boundary_default() -> None:
    assert boundary_from_content_type("multipart/x-mixed-replace", "--ioboundary") == (
        "--ioboundary"
    )


def test_content_length_of_thousands_of_digits_falls_back_to_the_boundary() -> None:
    # int() refuses more than 4300 digits with ValueError, which must not end the stream.
    data = part("Heartbeat", length="1" * 5000) + part("Heartbeat")
    assert MultipartParser().feed(data) == ["Heartbeat"]


def test_blank_line_mode_looks_at_each_byte_once() -> None:
    # A long body fed a byte at a time: the scan for its blank line goes on where it stopped.
    body = b"".join(b"x" if index % 50 else b"\n" for index in range(1, 60_000))
    parser = doorbird_parser()
    parser.feed(b"--ioboundary\r\nContent-Type: text/plain\r\n\r\n")
    for byte in body:
        parser.feed(bytes([byte]))
        assert parser._blank.position == parser.buffered
    assert parser.feed(b"\r\n\r\n") == [body.decode()]


@pytest.mark.parametrize("seed", range(20))
def test_blank_line_scan_finds_what_the_pattern_finds(seed: int) -> None:
    # The incremental scan against the expression it stands for, on random bodies cut anywhere.
    rng = random.Random(seed)
    for _ in range(100):
        body = bytes(rng.choice(b"a \t\r\n") for _ in range(rng.randrange(1, 40)))
        cuts = sorted(rng.sample(range(len(body) + 1), min(3, len(body) + 1)))
        scan = _BlankLineScan()
        buffer = bytearray()
        for cut in [*cuts, len(body)]:
            buffer[:] = body[:cut]
            text = len(buffer) - len(buffer.lstrip())
            match = re.compile(rb"\r?\n[ \t]*\r?\n").search(buffer, text)
            expected = -1 if match is None else match.start()
            assert scan.find(buffer) == expected, (body, cut)
            if expected >= 0:
                break
