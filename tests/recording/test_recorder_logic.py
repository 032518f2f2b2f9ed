"""The recorder's decisions on made-up packets, handed over as the ingest thread would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
import logging
from pathlib import Path
import time
from typing import cast

import pytest

from custom_components.local_doorbell.recording.recorder import Recorder

from .harness import Clips, decode, wait_for_sync
from .synthetic import FPS, Source, encode, load

NOWHERE = "file:///nonexistent/stream"  # the ingest fails quietly; the test feeds packets


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Source]:
    media = tmp_path_factory.mktemp("media")
    return {
        "small": load(encode(media / "small.nut", 2.0)),
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
    recorder.start()
    yield recorder
    recorder.stop()


def feed(recorder: Recorder, source: Source, arrival: float) -> None:
    """Hand over a source's parameters and packets, arriving from `arrival` in real time."""
    recorder._streams_from_ingest(source.info)  # standing in for the ingest
    first = source.packets[0].wall
    for packet in source.packets:
        recorder._from_ingest(replace(packet, wall=arrival + packet.wall - first))


def test_new_stream_parameters_finish_the_clip(
    recorder: Recorder, clips: Clips, sources: dict[str, Source]
) -> None:
    feed(recorder, sources["small"], time.time() - 2)
    recorder.trigger("ring")
    feed(recorder, sources["large"], time.time())  # the device came back with another size
    wait_for_sync(lambda: len(clips.results) == 1)
    recorder.trigger("motion")
    wait_for_sync(lambda: len(clips.results) == 2, 5)
    first, second = (decode(result.mp4) for result in clips.results)
    assert first.size == (320, 240)
    assert first.counters == list(range(FPS, 2 * FPS))  # pre-roll from the second keyframe
    assert second.size == (480, 360)
    assert second.counters == list(range(FPS, 2 * FPS))


def test_a_trigger_before_any_picture_waits_for_a_keyframe(
    recorder: Recorder, clips: Clips, sources: dict[str, Source]
) -> None:
    recorder.trigger("ring")
    feed(recorder, sources["small"], time.time() - 0.05)
    wait_for_sync(lambda: len(clips.results) == 1, 5)
    (result,) = clips.results
    assert decode(result.mp4).counters[0] == 0
    assert result.thumbnail is not None  # the first keyframe came after the trigger


def test_thumbnail_falls_back_to_the_keyframe_before_the_trigger(
    recorder: Recorder, clips: Clips, sources: dict[str, Source], caplog: pytest.LogCaptureFixture
) -> None:
    packets = [p for p in sources["small"].packets if p.seconds < 1.5]  # all before the trigger
    source = replace(sources["small"], packets=packets)
    feed(recorder, source, time.time() - 1.5)
    recorder.trigger("ring")
    wait_for_sync(lambda: len(clips.results) == 1, 5)  # closed by the clock: no more packets
    (result,) = clips.results
    assert result.thumbnail is not None
    assert decode(result.thumbnail).counters == [FPS]
    # When the thumbnail cannot be written, the clip comes without one.
    clips.results.clear()
    (clips.root / "clips").mkdir(exist_ok=True)
    (clips.root / "clips" / "2-ring.jpg").mkdir()
    feed(recorder, source, time.time() - 1.5)
    recorder.trigger("ring")
    wait_for_sync(lambda: len(clips.results) == 1, 5)
    assert clips.results[0].thumbnail is None
    assert "Could not write the thumbnail" in caplog.text


def test_bugs_cost_a_clip_never_the_thread(
    recorder: Recorder, clips: Clips, sources: dict[str, Source], caplog: pytest.LogCaptureFixture
) -> None:
    clips.broken = True
    feed(recorder, sources["small"], time.time() - 2)
    recorder.trigger("ring")
    broken = replace(sources["small"].video()[-1], time_base=cast("Fraction", None))
    recorder._from_ingest(broken)
    wait_for_sync(lambda: "The clip callback failed" in caplog.text, 5)
    assert "Recording failed" in caplog.text
    assert recorder._thread is not None
    assert recorder._thread.is_alive()


def test_a_full_queue_drops_packets_with_one_warning(
    clips: Clips, sources: dict[str, Source], caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(NOWHERE, clip_paths=clips.paths, on_clip=clips.add)  # not started
    packet = sources["small"].packets[0]
    with caplog.at_level(logging.WARNING):
        for _ in range(5000):
            recorder._from_ingest(packet)
    assert caplog.text.count("cannot keep up") == 1
    recorder.stop()
    assert recorder.latest_jpeg() is None  # not connected
    with pytest.raises(ValueError, match="max_length"):
        Recorder(NOWHERE, clip_paths=clips.paths, on_clip=clips.add, max_length=0)


def test_start_twice_is_refused(recorder: Recorder) -> None:
    with pytest.raises(RuntimeError, match="already started"):
        recorder.start()
