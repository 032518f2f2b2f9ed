"""The runtime model of one config entry, and the typed entry that carries it."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .clips import ClipManager
from .coordinator import DoorbellCoordinator
from .devices.base import DeviceIdentity
from .options import DoorbellOptions
from .rtsp.restream import Restream


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalDoorbellData:
    """What the platforms of one config entry read: built once at setup."""

    identity: DeviceIdentity
    live: Restream  # what live view reads
    configuration_url: str | None
    options: DoorbellOptions
    coordinator: DoorbellCoordinator
    clips: ClipManager


type LocalDoorbellConfigEntry = ConfigEntry[LocalDoorbellData]
