"""Doorbell audio in clips: AAC copied, G.711 re-encoded as AAC."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import replace
from pathlib import Path

import pytest

from virtual_doorbell import VirtualDoorbell

from ..conftest import PASSWORD, TEST_VIDEO
from .harness import decode, ready, recording


@pytest.fixture
async def doorbells(socket_enabled: None) -> AsyncIterator[dict[str, VirtualDoorbell]]:
    """Run one doorbell sending AAC and one sending G.711 µ-law."""
    devices = {
        audio: VirtualDoorbell(password=PASSWORD, video=replace(TEST_VIDEO, audio=audio))
        for audio in ("aac", "pcmu")
    }
    for device in devices.values():
        await device.start()
    yield devices
    for device in devices.values():
        await device.stop()


async def test_aac_is_copied_and_g711_becomes_aac(
    doorbells: dict[str, VirtualDoorbell], tmp_path: Path
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        running = {
            audio: await stack.enter_async_context(recording(device, tmp_path / audio, wait=False))
            for audio, device in doorbells.items()
        }
        await asyncio.gather(*(ready(recorder) for recorder, _ in running.values()))
        for recorder, _ in running.values():
            recorder.trigger("ring")
        results = {audio: (await clips.wait(1))[0] for audio, (_, clips) in running.items()}
    for audio, rate in (("aac", 16_000), ("pcmu", 8000)):
        clip = decode(results[audio].mp4)
        assert clip.consecutive
        assert clip.audio == "aac"
        # The sound lasts as long as the pictures (give or take the first and last frame).
        assert clip.audio_samples / rate == pytest.approx(results[audio].duration, abs=0.3)
