"""A faithful simulator of Dahua/Amcrest doorbells, for tests, benchmarks and demos."""

from .device import VideoSettings, VirtualDoorbell

__all__ = ["VideoSettings", "VirtualDoorbell"]
