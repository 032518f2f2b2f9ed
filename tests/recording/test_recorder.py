"""Clips from the virtual doorbell over real RTSP: pre-roll, post-roll, extension, cap, crash."""

from __future__ import annotations

import asyncio
from datetime import UTC
from pathlib import Path
import shutil
import time

import pytest

from virtual_doorbell import VirtualDoorbell

from .harness import FPS, IN_FLIGHT, decode, recording, wait_for


def _fragment_ends(data: bytes) -> list[int]:
    """Return the byte offsets where the fragments (moof + mdat) of an MP4 end."""
    ends, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        offset += size
        if kind == b"mdat":
            ends.append(offset)
    return ends


async def test_clip_reaches_back_pre_roll_and_on_post_roll_and_survives_a_cut(
    doorbell: VirtualDoorbell, tmp_path: Path
) -> None:
    async with recording(doorbell, tmp_path) as (recorder, clips):
        triggered = doorbell.current_frame()
        before = time.time()
        recorder.trigger("ring")
        (result,) = await clips.wait(1)
        # The simulator's frame counter runs with its clock.
        assert abs(doorbell.current_frame() - triggered - (time.time() - before) * FPS) <= 1
    clip = decode(result.mp4)
    assert clip.consecutive
    assert clip.counters[0] <= triggered - 1 * FPS  # pre-roll: 1 s
    assert clip.counters[-1] >= triggered - IN_FLIGHT + 1 * FPS  # post-roll: 1 s
    assert clip.times[0] == 0.0
    assert result.duration == pytest.approx(len(clip.counters) / FPS, abs=0.05)
    assert result.size == result.mp4.stat().st_size
    assert result.trigger == "ring"
    assert clips.reserved == [("ring", result.start)]
    assert result.start.tzinfo is UTC
    assert result.start.timestamp() < before - 0.9
    assert result.end.timestamp() > before + 0.9
    assert clip.audio is None
    # The thumbnail shows the first keyframe at or after the trigger.
    assert result.thumbnail == result.mp4.with_suffix(".jpg")
    thumbnail = decode(result.thumbnail)
    assert thumbnail.size == (320, 240)
    (shown,) = thumbnail.counters
    assert triggered <= shown <= triggered + FPS
    assert shown % FPS == 0
    # Cut at any byte, as a crash would leave it, the file plays to its last whole fragment.
    data = result.mp4.read_bytes()
    ends = _fragment_ends(data)
    assert len(ends) >= 2  # a fragment per one-second GOP
    for fraction in (0.37, 0.61, 0.83, 0.999):
        cut = int(len(data) * fraction)
        truncated = tmp_path / f"cut-{fraction}.mp4"
        truncated.write_bytes(data[:cut])
        whole = tmp_path / f"whole-{fraction}.mp4"
        whole.write_bytes(data[: max([0, *(end for end in ends if end <= cut)])])
        played = decode(truncated).counters
        assert len(played) >= (len(decode(whole).counters) if whole.stat().st_size else 0)
        assert played == clip.counters[: len(played)]
    assert decode(tmp_path / "cut-0.999.mp4").counters  # all but the last fragment at least


@pytest.mark.usefixtures("hour_long_batches")
async def test_a_trigger_between_batches_opens_its_clip_and_its_end_closes_it(
    doorbell: VirtualDoorbell, tmp_path: Path
) -> None:
    async with recording(doorbell, tmp_path) as (recorder, clips):
        triggered = doorbell.current_frame()
        recorder.trigger("ring")
        await wait_for(lambda: bool(clips.reserved))  # its file is open, long before a batch
        (result,) = await clips.wait(1)
        recorder.trigger("motion")
        (_, second) = await clips.wait(2)
    clip = decode(result.mp4)
    assert clip.consecutive
    assert clip.counters[0] <= triggered - 1 * FPS  # the pre-roll, from before the trigger
    assert clip.counters[-1] >= triggered - IN_FLIGHT + 1 * FPS  # to the post-roll's end
    assert decode(second.mp4).counters[0] > clip.counters[-1] - 2 * FPS


async def test_triggers_3_s_apart_make_one_clip_readable_while_written(
    doorbell: VirtualDoorbell, tmp_path: Path
) -> None:
    async with recording(doorbell, tmp_path, post_roll=3.2) as (recorder, clips):
        first = doorbell.current_frame()
        recorder.trigger("motion")
        await asyncio.sleep(3)
        second = doorbell.current_frame()
        recorder.trigger("ring")
        # A copy taken while the clip is written: its whole fragments play.
        ((trigger, _),) = clips.reserved
        (written,) = (tmp_path / "clips").glob("*.mp4")
        copy = tmp_path / "copy.mp4"
        shutil.copyfile(written, copy)
        (result,) = await clips.wait(1, 6)
    assert trigger == "motion"
    assert result.extended_by == {"ring"}  # kept as long as a ring clip is
    clip = decode(result.mp4)
    assert clip.consecutive
    assert clip.counters[0] <= first - FPS
    assert clip.counters[-1] >= second - IN_FLIGHT + 3.2 * FPS
    # A pre-roll of 1 s to 2 s (1 s back from a keyframe every second), 3 s, the post-roll.
    assert 1 + 3 + 3.2 - 0.2 <= result.duration <= 2 + 3 + 3.2 + 0.2
    partial = decode(copy)
    assert len(partial.counters) >= 2 * FPS
    assert partial.counters == clip.counters[: len(partial.counters)]


async def test_max_length_caps_a_clip_and_a_later_trigger_starts_another(
    doorbell: VirtualDoorbell, tmp_path: Path
) -> None:
    # The pre-roll alone is 1 s to 2 s (1 s back from a keyframe every second): both motion
    # triggers fall within the cap, and each clip's post-roll reaches past it.
    async with recording(doorbell, tmp_path, max_length=3.0, post_roll=3.0) as (recorder, clips):
        recorder.trigger("motion")
        await asyncio.sleep(0.5)
        recorder.trigger("motion")  # within the cap: the same clip goes on
        await clips.wait(1)
        later = doorbell.current_frame() - IN_FLIGHT
        recorder.trigger("ring")
        first, second = await clips.wait(2)
    assert [result.trigger for result in clips.results] == ["motion", "ring"]
    assert first.duration == pytest.approx(3.0, abs=0.11)
    capped = decode(first.mp4)
    assert capped.consecutive
    assert len(capped.counters) == round(first.duration * FPS)
    assert second.duration == pytest.approx(3.0, abs=0.11)
    assert decode(second.mp4).counters[-1] >= later + FPS
