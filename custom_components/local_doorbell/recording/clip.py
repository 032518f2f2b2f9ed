"""What the recorder hands over when a clip is finished."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ClipResult:
    """A finished clip file: where it is, why it was recorded and what it holds."""

    mp4: Path
    thumbnail: Path | None  # None when no keyframe could be decoded or written
    trigger: str
    start: datetime  # UTC wall time of the first packet
    end: datetime  # UTC wall time of the last packet
    duration: float  # seconds of media
    size: int  # bytes on disk
