"""The simulated device's mutable state: settings, injected faults and counters."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .models import ModelProfile


@dataclass(slots=True)
class Quirks:
    """Firmware quirks of the event stream, each switchable."""

    content_length_space: bool | None = None  # None: as the model does
    coalesce_parts: bool = False  # several parts in one TCP write
    split_parts: bool = False  # a part split across writes
    stray_http_line: bool = False  # `HTTP/1.1 200 OK` inside the stream


@dataclass(slots=True)
class Faults:
    """Faults that last until cleared."""

    stall_events: bool = False
    stop_video: bool = False
    rebooting: bool = False
    malformed_status: bool = False  # authenticated requests get a status line no client parses
    oversized: bool = False  # authenticated requests get an endless body
    deep_nesting: bool = False  # DoorBird: info.cgi answers JSON nested too deep


@dataclass(slots=True)
class Counters:
    """What the device has served, for tests to check."""

    rtsp_sessions: int = 0
    rtsp_sessions_total: int = 0
    event_clients: int = 0
    event_clients_total: int = 0
    presses: int = 0
    motion_events: int = 0
    person_events: int = 0
    timestamp_jumps: int = 0


@dataclass(slots=True)
class DeviceState:
    """Everything about the device that a client or a test can observe or change."""

    model: ModelProfile
    serial: str
    firmware: str = "2.800.0000000.7.R,build:2024-05-14"
    mac: str = "9C:8E:CD:00:00:01"
    cloud_enabled: bool = True
    cloud_locked: bool = False  # firmware that answers OK but keeps its cloud on
    rtsp_port: int = 554
    heartbeat_max: int = 60
    quirks: Quirks = field(default_factory=Quirks)
    faults: Faults = field(default_factory=Faults)
    counters: Counters = field(default_factory=Counters)
    rtp_timestamp_offset: int = 0  # seconds added to RTP clocks by the jump fault
    press_frame: int | None = None  # the main stream's frame counter at the last press

    def as_json(self) -> dict[str, Any]:
        """Return the state as `GET /sim/state` shows it."""
        return {
            "model": self.model.name,
            "device_type": self.model.device_type,
            "serial": self.serial,
            "firmware": self.firmware,
            "cloud_enabled": self.cloud_enabled,
            "rtsp_port": self.rtsp_port,
            "quirks": asdict(self.quirks),
            "faults": asdict(self.faults),
            "counters": asdict(self.counters),
            "press_frame": self.press_frame,
        }
