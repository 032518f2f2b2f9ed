"""Fixtures for the recording tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from custom_components.local_doorbell.recording.archive.library import Library

from .media import trusted_clock


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    """Return an open library whose clock is trusted."""
    library = Library(tmp_path / "clips", clock=trusted_clock())
    library.open()
    yield library
    library.close()
