"""The clip library's files on disk: names, the metadata sidecar and the duration probe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
import json
import logging
import math
import os
from pathlib import Path
import re
import secrets
from typing import Any

import av

_LOGGER = logging.getLogger(__name__)

SIDECAR_VERSION = 1
_DEVICE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CLIP_ID = re.compile(r"(?P<time>[0-9]{8}T[0-9]{6}Z)-(?P<trigger>[a-z0-9]{1,16})-[0-9a-f]{4}")
_ID_TIME = "%Y%m%dT%H%M%SZ"


class LibraryError(Exception):
    """The clip library cannot do what was asked."""


class InvalidName(LibraryError, ValueError):
    """A device name that cannot be a folder under the storage root."""


class DamagedSidecar(LibraryError):
    """A clip's sidecar is there but cannot be read or trusted."""


def utc(moment: datetime) -> datetime:
    """Return an aware datetime in UTC; naive datetimes are a programming error."""
    if moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone")
    return moment.astimezone(UTC)


def check_device(device: str) -> str:
    """Return the device name if it is safe as a folder name (the serial), else raise."""
    if not is_device(device):
        raise InvalidName(f"{device!r} is not a valid device folder name")
    return device


def is_device(name: str) -> bool:
    """Tell whether a folder name could be a device's."""
    # "." and ".." match the character class but would point at the root or above it.
    return bool(_DEVICE.fullmatch(name)) and name not in {".", ".."}


def parse_day(name: str) -> date | None:
    """Return the date a day folder (YYYY-MM-DD) stands for, or None."""
    if not _DAY.fullmatch(name):
        return None
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def new_clip_id(start: datetime, trigger: str) -> str:
    """Make a short, URL-safe, sortable clip id: start time, trigger, four random hex digits."""
    slug = re.sub(r"[^a-z0-9]", "", trigger.lower())[:16] or "clip"
    return f"{utc(start):{_ID_TIME}}-{slug}-{secrets.token_hex(2)}"


def is_clip_id(name: str) -> bool:
    """Tell whether a file stem is a clip id this library made (its time a real one)."""
    try:
        clip_id_parts(name)
    except ValueError:
        return False
    return True


def clip_id_parts(clip_id: str) -> tuple[datetime, str]:
    """Return the start time (to the second) and trigger slug a clip id was made from."""
    match = _CLIP_ID.fullmatch(clip_id)
    if match is None:
        raise ValueError(f"{clip_id!r} is not a clip id")
    time = match["time"]  # YYYYMMDDTHHMMSSZ; a 13th month or a 61st minute is a ValueError
    year, month, day = int(time[0:4]), int(time[4:6]), int(time[6:8])
    hour, minute, second = int(time[9:11]), int(time[11:13]), int(time[13:15])
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC), match["trigger"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Clip:
    """One recorded clip; paths are relative to the storage root, in POSIX form."""

    id: str
    device: str
    trigger: str
    start: datetime
    end: datetime
    duration: float
    size: int
    path: str
    thumbnail: str | None
    protected: bool
    # When retention began counting its age; the index keeps it, None until indexed.
    kept_since: datetime | None = None
    # Other events that made the clip last longer (a ring during a motion clip): retention
    # keeps a clip as long as the longest-kept of its triggers.
    extended_by: frozenset[str] = frozenset()

    @property
    def triggers(self) -> frozenset[str]:
        """Return every event that started or extended the clip."""
        return self.extended_by | {self.trigger}


def write_sidecar(path: Path, clip: Clip) -> None:
    """Write a clip's sidecar atomically: a crash leaves the old one or the new one, never half."""
    data = {
        "version": SIDECAR_VERSION,
        "id": clip.id,
        "device": clip.device,
        "trigger": clip.trigger,
        "triggers": sorted(clip.triggers),
        "start": clip.start.isoformat(),
        "end": clip.end.isoformat(),
        "duration": clip.duration,
        "size": clip.size,
        "protected": clip.protected,
    }
    tmp = path.with_name(f"{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as file:
        json.dump(data, file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)


def read_sidecar(
    path: Path, *, clip_id: str, device: str, mp4: str, jpg: str | None
) -> Clip | None:
    """Read the sidecar of a clip found on disk as `mp4`; None if there is none.

    Raise DamagedSidecar for one that cannot be read or describes another clip.
    """
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        clip = Clip(
            id=str(data["id"]),
            device=str(data["device"]),
            trigger=str(data["trigger"]),
            start=utc(datetime.fromisoformat(data["start"])),
            end=utc(datetime.fromisoformat(data["end"])),
            duration=float(data["duration"]),
            size=int(data["size"]),
            path=mp4,
            thumbnail=jpg,
            protected=data["protected"] is True,
            # Sidecars from before clips noted what extended them name only the first trigger.
            extended_by=trigger_names(data.get("triggers", [])) - {str(data["trigger"])},
        )
    except FileNotFoundError:
        return None
    # Whatever a damaged or hostile file holds: 1e999 (OverflowError), nesting deeper than the
    # parser's recursion limit (RecursionError), text that is no JSON or no time (ValueError).
    except (OSError, ValueError, KeyError, TypeError, OverflowError, RecursionError) as err:
        raise DamagedSidecar(f"{path}: {type(err).__name__}: {err}") from err
    if not (math.isfinite(clip.duration) and clip.duration >= 0 and clip.size >= 0):
        raise DamagedSidecar(f"{path}: duration {clip.duration}, size {clip.size}")
    # Paths come from where the files lie, never from the sidecar; one that names another
    # clip or device was moved or tampered with.
    if clip.id != clip_id or clip.device != device:
        raise DamagedSidecar(f"{path} describes another clip")
    return clip


def trigger_names(value: object) -> frozenset[str]:
    """Return a list of trigger names as a set; TypeError for anything else."""
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise TypeError(f"triggers must be a list of names, not {value!r}")
    return frozenset(value)


def probe_duration(path: Path) -> float | None:
    """Return a clip's duration in seconds by demuxing to its last packet; None if unreadable."""
    # Fragmented MP4 has an empty moov, so only the packets tell the length; a file cut short
    # by a crash still yields every packet before the cut.
    first: float | None = None
    last = 0.0
    try:
        with av.open(str(path)) as container:
            for packet in container.demux():
                if packet.pts is None:
                    continue
                start = float(packet.pts * packet.time_base)
                end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                first = start if first is None else min(first, start)
                last = max(last, end)
    except (av.FFmpegError, OSError) as err:
        _LOGGER.debug("Reading %s stopped: %s", path, err)
    return None if first is None else max(last - first, 0.0)
