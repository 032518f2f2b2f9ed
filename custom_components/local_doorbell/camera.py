"""The doorbell's camera: live view from the restream, snapshots from the recorder or device."""

from __future__ import annotations

from homeassistant.components.camera import Camera, CameraEntityDescription, CameraEntityFeature
from homeassistant.components.stream import CONF_RTSP_TRANSPORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import DoorbellEntity
from .errors import raise_translated
from .models import LocalDoorbellConfigEntry

PARALLEL_UPDATES = 0

CAMERA = CameraEntityDescription(key="camera", name=None)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LocalDoorbellConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the doorbell's camera."""
    async_add_entities([LocalDoorbellCamera(entry)])


class LocalDoorbellCamera(DoorbellEntity, Camera):
    """The doorbell's picture, named after the device."""

    _attr_supported_features = CameraEntityFeature.STREAM

    def __init__(self, entry: LocalDoorbellConfigEntry) -> None:
        """Set up both parents."""
        Camera.__init__(self)
        DoorbellEntity.__init__(self, entry, CAMERA)
        # The restream sends RTP interleaved in its connection only: no UDP to try first.
        self.stream_options[CONF_RTSP_TRANSPORT] = "tcp"

    async def stream_source(self) -> str:
        """Return the restream's loopback address: Home Assistant's stream and go2rtc read it."""
        return self.runtime.live.url

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return the newest keyframe the recorder holds, else a snapshot from the device."""
        cached = await self.hass.async_add_executor_job(self.runtime.clips.latest_jpeg)
        return cached if cached is not None else await self._async_snapshot()

    @raise_translated("snapshot_failed")
    async def _async_snapshot(self) -> bytes:
        """Return a snapshot from the device."""
        return await self.coordinator.device.snapshot()
