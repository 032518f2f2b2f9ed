"""Fixtures for the recording tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from custom_components.local_doorbell.recording.archive.library import Library
from custom_components.local_doorbell.recording.capture import ingest

from .media import trusted_clock


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    """Return an open library whose clock is trusted."""
    library = Library(tmp_path / "clips", clock=trusted_clock())
    library.open()
    yield library
    library.close()


@pytest.fixture
def hour_long_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the ingest's batches last an hour.

    Only a trigger, a clip's end or a capture then hands packets on within a test.
    """
    monkeypatch.setattr(ingest, "_BATCH", 3600.0)
    monkeypatch.setattr(ingest, "_BATCH_PACKETS", 1 << 30)
