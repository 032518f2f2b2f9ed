"""The recorder when things go wrong: jumps, reboots, silence, full disks, privacy mode."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
from pathlib import Path
import time

from PIL import Image
import pytest

from virtual_doorbell import VirtualDoorbell

from .harness import FPS, decode, recording, wait_for


async def test_timestamp_jump_and_reboot_keep_clips_continuous(
    doorbell: VirtualDoorbell, tmp_path: Path
) -> None:
    async with recording(doorbell, tmp_path, pre_roll=0.0) as (recorder, clips):
        recorder.trigger("ring")
        await asyncio.sleep(0.3)
        await doorbell.fault("jump_timestamps", 30)
        recorder.trigger("ring")
        (jumped,) = await clips.wait(1)
        await doorbell.fault("reboot", 2)
        await wait_for(lambda: len(clips.connection) >= 3, 15)
        assert clips.connection == [True, False, True]
        recorder.trigger("motion")
        _, rebooted = await clips.wait(2)
    clip = decode(jumped.mp4)
    assert clip.consecutive
    steps = [b - a for a, b in itertools.pairwise(clip.times)]
    assert min(steps) > 0
    assert max(steps) < 2.5 / FPS  # the 30 s jump is gone
    assert jumped.duration == pytest.approx(len(clip.counters) / FPS, abs=0.15)
    # The clip after the reboot decodes too; its pre-roll may reach back across the outage.
    later = decode(rebooted.mp4)
    assert len(later.counters) > FPS
    assert later.counters == sorted(later.counters)
    assert all(b > a for a, b in itertools.pairwise(later.times))


async def test_snapshot_cache_and_prompt_stop_while_the_device_is_silent(
    doorbell: VirtualDoorbell, tmp_path: Path
) -> None:
    async with recording(doorbell, tmp_path, pre_roll=0.0, watchdog=1.0) as (recorder, clips):
        first = await asyncio.to_thread(recorder.latest_jpeg)
        assert first is not None
        assert Image.open(io.BytesIO(first)).size == (320, 240)
        recorder.trigger("ring")
        await doorbell.fault("stop_video")
        await asyncio.sleep(0.3)
        held = await asyncio.to_thread(recorder.latest_jpeg)
        started = time.perf_counter()
        assert recorder.latest_jpeg() is held  # decoded once per keyframe
        assert time.perf_counter() - started < 0.005
        await wait_for(lambda: not recorder.connected, 5)  # the watchdog gave up
        assert recorder.latest_jpeg() is None
        # Stop while the ingest is connecting again and waits for a picture in vain.
        sessions = doorbell.state.counters.rtsp_sessions_total
        await wait_for(lambda: doorbell.state.counters.rtsp_sessions_total > sessions, 5)
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        await asyncio.to_thread(recorder.stop)
        assert time.perf_counter() - started < 2.0
    (result,) = clips.results  # the open clip was finished, not lost
    assert decode(result.mp4).consecutive
    assert clips.connection == [True, False]


async def test_disk_errors_cost_one_clip_only(doorbell: VirtualDoorbell, tmp_path: Path) -> None:
    full = tmp_path / "full" / "clip.mp4"
    full.parent.mkdir()
    os.symlink("/dev/full", full)  # every write fails with ENOSPC
    async with recording(doorbell, tmp_path, pre_roll=0.0, post_roll=0.5) as (recorder, clips):
        clips.override = [full, PermissionError("library refused")]
        recorder.trigger("ring")
        (failed,) = await clips.wait(1)
        recorder.trigger("ring")  # no path for it: no clip
        await wait_for(lambda: len(clips.reserved) == 2)
        await asyncio.sleep(0.6)
        recorder.trigger("motion")
        (_, good) = await clips.wait(2)
    assert failed.mp4 == full
    assert failed.size == 0
    assert failed.thumbnail is None
    assert good.trigger == "motion"
    assert decode(good.mp4).consecutive


async def test_privacy_pause_finishes_the_clip_and_forgets_the_pre_roll(
    doorbell: VirtualDoorbell, tmp_path: Path
) -> None:
    async with recording(doorbell, tmp_path, wait=False, post_roll=5.0) as (recorder, clips):
        await wait_for(lambda: recorder.connected)
        recorder.trigger("ring")
        await asyncio.sleep(0.5)
        recorder.paused = True
        assert recorder.paused
        (cut,) = await clips.wait(1, 3)
        recorder.trigger("motion")  # ignored while paused
        await asyncio.sleep(0.5)
        resumed = doorbell.current_frame()
        recorder.paused = False
        recorder.trigger("ring")
        await asyncio.sleep(1.5)
        recorder.paused = True
        _, after = await clips.wait(2, 3)
    assert cut.duration < 3
    assert [r.trigger for r in clips.results] == ["ring", "ring"]
    assert decode(after.mp4).counters[0] >= resumed  # nothing from the private moment
