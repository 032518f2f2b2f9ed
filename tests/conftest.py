"""Fixtures shared by every test: the virtual doorbell, started in-process on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

# Import our package so that Home Assistant loads it, not the test plugin's copy.
import custom_components.local_doorbell  # noqa: F401
from virtual_doorbell import VideoSettings, VirtualDoorbell

# Small pictures keep the encoder cheap; the RTSP tests check the full-size path.
TEST_VIDEO = VideoSettings(width=320, height=240, fps=10, gop_seconds=1.0, bitrate=200_000)
PASSWORD = "doorbell-test-password"


@pytest.fixture
def doorbell_model() -> str:
    """Return the model the `doorbell` fixture simulates; override to change it."""
    return "AD410"


@pytest.fixture
async def doorbell(socket_enabled: None, doorbell_model: str) -> AsyncIterator[VirtualDoorbell]:
    """Run a virtual doorbell on ephemeral loopback ports."""
    device = VirtualDoorbell(password=PASSWORD, model=doorbell_model, video=TEST_VIDEO)
    await device.start()
    yield device
    await device.stop()
