"""Clips from the virtual doorbell over real RTSP: pre-roll, post-roll, extension, cap, crash."""

from __future__ import annotations

import asyncio
from datetime import UTC
from pathlib import Path
import shutil
import time

import pytest

from virtual_doorbell import VirtualDoorbell

from .harness import FPS, decode, recording


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


async def test_clip_reaches_back_pre_roll_and_on_post_roll(
    doorbell: VirtualDoorbell, tmp_path: Path
) -> None:
    async with recording(doorbell, tmp_path) as (recorder, clips):
        triggered = doorbell.current_frame()
        before = time.time()
        recorder.trigger("ring")
        (result,) = await clips.wait(1)
    clip = decode(result.mp4)
    assert clip.consecutive
    assert clip.counters[0] <= triggered - 1 * FPS  # pre-roll: 1 s
    assert clip.counters[-1] >= triggered + 1 * FPS  # post-roll: 1 s
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


async def test_cut_clip_plays_up_to_its_last_whole_fragment(
    doorbell: VirtualDoorbell, tmp_path: Path
) -> None:
    async with recording(doorbell, tmp_path, post_roll=1.5) as (recorder, clips):
        recorder.trigger("ring")
        (result,) = await clips.wait(1)
    data = result.mp4.read_bytes()
    full = decode(result.mp4).counters
    ends = _fragment_ends(data)
    assert len(ends) >= 3  # a fragment per one-second GOP
    for fraction in (0.37, 0.61, 0.83, 0.999):
        # As a crash at an arbitrary byte would leave the file.
        cut = int(len(data) * fraction)
        truncated = tmp_path / f"cut-{fraction}.mp4"
        truncated.write_bytes(data[:cut])
        whole = tmp_path / f"whole-{fraction}.mp4"
        whole.write_bytes(data[: max(end for end in ends if end <= cut)])
        played, complete = decode(truncated).counters, decode(whole).counters
        assert len(played) >= len(complete) > 0
        assert played == full[: len(played)]


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
    clip = decode(result.mp4)
    assert clip.consecutive
    assert clip.counters[0] <= first - FPS
    assert clip.counters[-1] >= second + 3.2 * FPS
    assert result.duration == pytest.approx(1 + 3 + 3.2, abs=0.6)
    partial = decode(copy)
    assert len(partial.counters) >= 2 * FPS
    assert partial.counters == clip.counters[: len(partial.counters)]


async def test_max_length_caps_a_clip_and_a_later_trigger_starts_another(
    doorbell: VirtualDoorbell, tmp_path: Path
) -> None:
    # 1 s pre-roll from a keyframe every second: the pre-roll alone is 1 s to 2 s.
    async with recording(doorbell, tmp_path, max_length=3.0) as (recorder, clips):
        for _ in range(3):
            recorder.trigger("motion")  # each within the cap: the same clip goes on
            await asyncio.sleep(0.7)
        await clips.wait(1)
        later = doorbell.current_frame()
        recorder.trigger("ring")
        first, second = await clips.wait(2)
    assert [first.trigger, second.trigger] == ["motion", "ring"]
    assert first.duration == pytest.approx(3.0, abs=0.11)
    capped = decode(first.mp4)
    assert capped.consecutive
    assert len(capped.counters) == round(first.duration * FPS)
    assert second.duration < 3.0
    assert decode(second.mp4).counters[-1] >= later + FPS


async def test_doorbell_frame_counter_runs_at_the_frame_rate(doorbell: VirtualDoorbell) -> None:
    before = doorbell.current_frame()
    await asyncio.sleep(0.5)
    assert doorbell.current_frame() - before in (FPS // 2, FPS // 2 + 1)
