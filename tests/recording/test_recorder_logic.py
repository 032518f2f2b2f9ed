"""The recorder's decisions on made-up packets, handed over as its ingest thread would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
import time
from typing import cast

import pytest

from custom_components.local_doorbell.recording.capture.recorder import Recorder

from .harness import Clips, decode
from .synthetic import FPS, Source, encode, load

NOWHERE = "file:///nonexistent/stream"  # never started: the test is the ingest


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Source]:
    media = tmp_path_factory.mktemp("media")
    return {
        "small": load(encode(media / "small.nut", 2.0)),
        "long": load(encode(media / "long.nut", 3.0)),
        "large": load(encode(media / "large.nut", 2.0, audio=None, size=(480, 360))),
    }


@pytest.fixture
def clips(tmp_path: Path) -> Clips:
    return Clips(tmp_path)


@pytest.fixture
def recorder(clips: Clips) -> Iterator[Recorder]:
    recorder = Recorder(
        NOWHERE, clip_paths=clips.paths, on_clip=clips.add, pre_roll=0.5, post_roll=0.3
    )
    yield recorder
    recorder.stop()


def feed(recorder: Recorder, source: Source, arrival: float) -> None:
    """Hand over a source's parameters and packets, arriving from `arrival` in real time."""
    recorder._on_streams(source.info)
    first = source.packets[0].wall
    for packet in source.packets:
        recorder._on_packet(replace(packet, wall=arrival + packet.wall - first))


def test_new_stream_parameters_finish_the_clip(
    recorder: Recorder, clips: Clips, sources: dict[str, Source]
) -> None:
    feed(recorder, sources["small"], time.time() - 2)
    recorder.trigger("ring")
    recorder._on_idle()
    feed(recorder, sources["large"], time.time())  # the device came back with another size
    assert len(clips.results) == 1
    recorder.trigger("motion")
    feed(recorder, sources["large"], time.time() + 2)  # its clip ends with these
    first, second = (decode(result.mp4) for result in clips.results)
    assert first.size == (320, 240)
    assert first.counters == list(range(FPS, 2 * FPS))  # pre-roll from the second keyframe
    assert second.size == (480, 360)
    assert second.counters[0] == FPS


def test_triggers_and_pauses_apply_by_arrival_not_by_handling(
    recorder: Recorder, clips: Clips, sources: dict[str, Source]
) -> None:
    # The ingest hands packets on in batches, a moment late: here all of them, afterwards.
    arrival = time.time()

    def at(seconds: float) -> None:  # between two pictures, 100 ms apart
        time.sleep(max(0.0, arrival + seconds - time.time()))

    at(0.25)
    recorder.trigger("ring")
    at(0.55)
    recorder.paused = True
    at(0.85)
    recorder.paused = False
    recorder.trigger("motion")
    feed(recorder, sources["long"], arrival)
    assert [result.trigger for result in clips.results] == ["ring", "motion"]
    ring, motion = (decode(result.mp4) for result in clips.results)
    assert ring.counters == list(range(6))  # cut by the pause, not by its handling
    assert motion.counters == [FPS, FPS + 1, FPS + 2]  # nothing filmed during the pause


def test_a_trigger_before_any_picture_waits_for_a_keyframe(
    recorder: Recorder, clips: Clips, sources: dict[str, Source]
) -> None:
    recorder.trigger("ring")
    recorder._on_idle()
    feed(recorder, sources["small"], time.time() - 0.05)
    (result,) = clips.results
    assert decode(result.mp4).counters[0] == 0
    assert result.thumbnail is not None  # the first keyframe came after the trigger
    recorder.paused = True
    recorder.trigger("ring")  # ignored while paused
    recorder._on_idle()
    assert recorder.paused
    assert len(clips.results) == 1


def test_thumbnail_falls_back_to_the_keyframe_before_the_trigger(
    recorder: Recorder, clips: Clips, sources: dict[str, Source]
) -> None:
    packets = [p for p in sources["small"].packets if p.seconds < 1.5]  # all before the trigger
    source = replace(sources["small"], packets=packets)
    feed(recorder, source, time.time() - 1.5)
    recorder.trigger("ring")
    recorder._on_idle()
    time.sleep(1.4)
    recorder._on_idle()  # its end has passed and no packet came: closed by the clock
    (result,) = clips.results
    assert result.thumbnail is not None
    assert decode(result.thumbnail).counters == [FPS]
    # When the thumbnail cannot be written, the clip comes without one.
    (clips.root / "clips" / "2-ring.jpg").mkdir()
    feed(recorder, source, time.time() - 1.5)
    recorder.trigger("ring")
    recorder._on_idle()
    recorder.stop()  # finishes the open clip
    assert clips.results[1].thumbnail is None


def test_bugs_cost_a_clip_never_the_recording(
    recorder: Recorder, clips: Clips, sources: dict[str, Source], caplog: pytest.LogCaptureFixture
) -> None:
    clips.broken = True
    feed(recorder, sources["small"], time.time() - 2)
    recorder.trigger("ring")
    last = sources["small"].video()[-1]
    broken = replace(last, time_base=cast("Fraction", None), wall=time.time())
    recorder._on_packet(broken)
    recorder._on_idle()  # the failed clip is finished
    assert "Recording failed" in caplog.text
    assert "The clip callback failed" in caplog.text
    clips.broken = False
    recorder.trigger("motion")
    feed(recorder, sources["small"], time.time() + 0.1)
    assert [result.trigger for result in clips.results] == ["motion"]


def test_arguments_and_lifecycle(clips: Clips) -> None:
    with pytest.raises(ValueError, match="max_length"):
        Recorder(NOWHERE, clip_paths=clips.paths, on_clip=clips.add, max_length=0)
    recorder = Recorder(NOWHERE, clip_paths=clips.paths, on_clip=clips.add)
    assert recorder.latest_jpeg() is None  # not connected
    recorder.start()
    with pytest.raises(RuntimeError, match="already started"):
        recorder.start()
    recorder.stop()
    recorder.stop()  # twice is harmless
