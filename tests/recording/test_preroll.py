"""The pre-roll buffer on made-up packets."""

from __future__ import annotations

from fractions import Fraction

import av
import pytest

from custom_components.local_doorbell.recording.capture.packet import Packet, StreamKind
from custom_components.local_doorbell.recording.capture.preroll import PrerollBuffer

FPS = 10
GOP = 10  # a keyframe each second


def packet(seconds: float, *, stream: StreamKind = "video", size: int = 100) -> Packet:
    """Return picture or sound at `seconds`; pictures on whole seconds are keyframes."""
    tick = round(seconds * 90_000)
    keyframe = stream == "video" and tick % 90_000 == 0
    return Packet(
        stream, av.Packet(bytes(size)), tick, tick, 9000, Fraction(1, 90_000), keyframe, seconds
    )


def feed(buffer: PrerollBuffer, seconds: float, *, audio: bool = False) -> None:
    for number in range(round(seconds * FPS)):
        buffer.append(packet(number / FPS))
        if audio:
            buffer.append(packet(number / FPS + 0.05, stream="audio", size=10))


@pytest.mark.parametrize("seconds", [0.0, 1.0, 2.5, 5.0])
def test_reaches_back_at_least_seconds_from_a_keyframe(seconds: float) -> None:
    buffer = PrerollBuffer(seconds)
    feed(buffer, 10, audio=True)
    held = buffer.snapshot()
    newest = 9.9
    assert held[0].keyframe
    assert held[0].seconds <= newest - seconds  # reaches back far enough
    assert held[0].seconds > newest - seconds - 1  # but at most one group more
    assert held[-1].seconds == pytest.approx(newest + 0.05)
    assert len(buffer) == len(held)
    latest = buffer.latest_keyframe()
    assert latest is not None
    assert latest.seconds == 9.0


def test_starts_at_a_keyframe() -> None:
    buffer = PrerollBuffer(5)
    buffer.append(packet(0.1))
    buffer.append(packet(0.15, stream="audio"))
    assert buffer.snapshot() == []
    assert buffer.latest_keyframe() is None
    buffer.append(packet(1.0))
    buffer.append(packet(1.05, stream="audio"))
    assert [p.seconds for p in buffer.snapshot()] == [1.0, 1.05]


def test_bounded_by_bytes_dropping_whole_groups() -> None:
    buffer = PrerollBuffer(60, max_bytes=2500)  # two and a half groups of 1000 bytes
    feed(buffer, 10)
    held = buffer.snapshot()
    assert held[0].keyframe
    assert held[0].seconds == 8.0
    assert buffer.size == len(held) * 100 <= 2500


def test_a_group_larger_than_the_bound_is_dropped_until_the_next_keyframe() -> None:
    buffer = PrerollBuffer(60, max_bytes=500)
    feed(buffer, 0.8)
    assert buffer.snapshot() == []
    assert buffer.size == 0
    buffer.append(packet(2.0))
    assert len(buffer) == 1


def test_clear_and_arguments() -> None:
    buffer = PrerollBuffer(1)
    feed(buffer, 2)
    buffer.clear()
    assert (len(buffer), buffer.size, buffer.latest_keyframe()) == (0, 0, None)
    with pytest.raises(ValueError, match="seconds"):
        PrerollBuffer(-1)
    with pytest.raises(ValueError, match="max_bytes"):
        PrerollBuffer(1, max_bytes=0)


def test_the_latest_run_is_the_newest_picture_after_its_keyframe() -> None:
    buffer = PrerollBuffer(2)
    assert buffer.latest_run() == []
    feed(buffer, 3.4, audio=True)
    assert [p.seconds for p in buffer.latest_run()] == [3.0, 3.1, 3.2, 3.3]  # video only
