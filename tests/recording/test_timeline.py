"""Timestamp hygiene, connection start-up and log-safe URLs, without a network."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

import av
import pytest

from custom_components.local_doorbell.privacy.logsafe import mask_url
from custom_components.local_doorbell.recording.capture.startup import Demuxed, Startup
from custom_components.local_doorbell.recording.capture.timeline import Timeline

VIDEO = Fraction(1, 90_000)
AUDIO = Fraction(1, 8000)
STEP = 9000  # 10 fps


def run(timeline: Timeline, stamps: Sequence[tuple[int | None, float]]) -> list[int | None]:
    """Place (dts, wall) pairs; return the output dts of each, None when dropped."""
    placed = [timeline.place(dts, dts, STEP, wall) for dts, wall in stamps]
    return [None if p is None else p[1] for p in placed]


def test_a_steady_stream_passes_unchanged() -> None:
    timeline = Timeline(VIDEO, STEP)
    stamps = [(n * STEP, n / 10) for n in range(5)]
    assert run(timeline, stamps) == [n * STEP for n in range(5)]
    assert timeline.place(None, STEP * 5, STEP, 0.5) == (STEP * 5, STEP * 5)  # pts from dts


def test_forward_jump_is_closed_up() -> None:
    timeline = Timeline(VIDEO, STEP)
    jump = 30 * 90_000
    stamps = [(0, 0.0), (STEP, 0.1), (2 * STEP + jump, 0.2), (3 * STEP + jump, 0.3)]
    assert run(timeline, stamps) == [0, STEP, 2 * STEP, 3 * STEP]


def test_a_real_gap_is_kept() -> None:
    timeline = Timeline(VIDEO, STEP)
    assert run(timeline, [(0, 0.0), (30 * STEP, 3.0)]) == [0, 30 * STEP]


def test_backward_jump_is_rebased_and_repeats_are_dropped() -> None:
    timeline = Timeline(VIDEO, STEP)
    stamps = [(100 * STEP, 0.0), (101 * STEP, 0.1), (101 * STEP, 0.15), (100 * STEP, 0.2)]
    assert run(timeline, stamps) == [100 * STEP, 101 * STEP, None, None]
    # Placed as much after the last packet as the wall clock says (0.1 s to 0.3 s).
    assert run(timeline, [(0, 0.3), (STEP, 0.4)]) == [103 * STEP, 104 * STEP]
    assert run(timeline, [(None, 0.5)]) == [None]


def test_a_new_connection_continues_after_the_time_that_passed() -> None:
    timeline = Timeline(VIDEO, STEP)
    run(timeline, [(0, 0.0), (STEP, 0.1)])
    timeline.restart(VIDEO, STEP)
    # The new clock starts near zero, three seconds later.
    assert run(timeline, [(4500, 3.1), (4500 + STEP, 3.2)]) == [STEP + 270_000, 2 * STEP + 270_000]
    timeline.restart(AUDIO, 160)  # another time base: a new timeline
    assert timeline.place(8000, 8000, 160, 4.0) == (8000, 8000)


PICTURE, SOUND = av.Packet(b"v"), av.Packet(b"a")  # one each: PyAV 16 compares identities


def video(dts: int | None, keyframe: bool = False, wall: float = 0.0) -> Demuxed:
    return Demuxed("video", PICTURE, dts, dts, STEP, keyframe, wall)


def audio(dts: int, wall: float) -> Demuxed:
    return Demuxed("audio", SOUND, dts, dts, 160, True, wall)


def start(probed: bool = True) -> Startup:
    return Startup(probed=probed, video_time_base=VIDEO, audio_time_base=AUDIO)


def test_untimed_first_pictures_are_timed_back_from_the_first_timed_one() -> None:
    startup = start()
    assert startup.take(video(None, keyframe=True, wall=1.0)) == []
    assert startup.take(audio(1200, wall=1.05)) == []
    assert startup.take(video(None, wall=1.1)) == []
    ready = startup.take(video(3 * STEP, wall=1.2))
    assert [(p.kind, p.dts, p.keyframe) for p in ready] == [
        ("video", STEP, True),
        ("video", 2 * STEP, False),
        ("video", 3 * STEP, False),
        ("audio", 1200, True),
    ]
    assert startup.take(video(None, wall=1.3)) == []  # later, untimed packets are dropped
    assert startup.take(audio(1360, wall=1.3)) == [audio(1360, wall=1.3)]


def test_without_a_whole_probe_or_a_keyframe_it_waits_for_a_timed_keyframe() -> None:
    startup = start(probed=False)
    assert startup.take(video(None, keyframe=True)) == []
    assert startup.take(video(None)) == []  # nothing held to follow
    assert startup.take(video(STEP)) == []
    assert startup.take(video(10 * STEP, keyframe=True)) == [video(10 * STEP, keyframe=True)]
    startup.reset()
    assert startup.take(video(11 * STEP)) == []  # waiting for a keyframe again


def test_a_long_run_of_untimed_pictures_is_given_up() -> None:
    startup = start()
    startup.take(video(None, keyframe=True))
    for _ in range(150):
        startup.take(video(None))
    assert startup.take(video(200 * STEP)) == []


@pytest.mark.parametrize(("audio_seconds", "shifted"), [(1.1, False), (0.0, True)])
def test_audio_on_another_clock_is_lined_up_by_arrival(audio_seconds: float, shifted: bool) -> None:
    startup = start()
    startup.take(video(round(1.0 * 90_000), keyframe=True, wall=5.0))
    (sound,) = startup.take(audio(round(audio_seconds * 8000), wall=5.1))
    assert sound.dts == (round(1.1 * 8000) if shifted else round(audio_seconds * 8000))
    later = startup.take(replace(sound, dts=1000, pts=None, wall=5.2))
    assert later[0].pts is None


def test_mask_url_hides_credentials() -> None:
    url = "rtsp://admin:secret@192.168.1.40:554/cam/realmonitor?channel=1&subtype=0"
    assert mask_url(url) == "rtsp://***@192.168.1.40:554/cam/realmonitor?channel=1&subtype=0"
    plain = "rtsp://192.168.1.40/live?user=admin&password=x&token=t"
    assert mask_url(plain) == "rtsp://192.168.1.40/live?user=***&password=***&token=***"
