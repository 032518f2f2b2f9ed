"""The doorbell's camera: live view from the restream, snapshots from the recorder or device.

A press (and motion, if the owner wants) warms the stream ahead of any viewer (`warm.py`);
whether its WebRTC would send browsers to Home Assistant's public STUN server is checked
whenever the WebRTC providers change (`stun.py`).
"""

from __future__ import annotations

from homeassistant.components.camera import Camera, CameraEntityDescription, CameraEntityFeature
from homeassistant.components.stream import CONF_RTSP_TRANSPORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .entity import DoorbellEntity
from .errors import raise_translated
from .models import LocalDoorbellConfigEntry
from .stun import async_check_default_stun, issue_id as stun_issue_id
from .warm import StreamWarmer

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
        self._warmer: StreamWarmer | None = None

    async def async_added_to_hass(self) -> None:
        """Warm the stream on the events the owner chose."""
        await super().async_added_to_hass()
        options = self.runtime.options
        if not options.warm_triggers:
            return
        self._warmer = StreamWarmer(
            self.hass, self.coordinator.config_entry, self, options.warm_seconds
        )
        for kind in options.warm_triggers:
            self.async_on_remove(
                self.coordinator.async_subscribe_event(kind, self._warmer.handle_event)
            )

    async def async_will_remove_from_hass(self) -> None:
        """Stop warming and the stream: its source, the entry's restream, goes with the entry."""
        if self._warmer is not None:
            await self._warmer.async_stop()
        if (stream := self.stream) is not None:
            for output in stream.outputs().values():
                await stream.remove_provider(output)
            await stream.stop()
        ir.async_delete_issue(self.hass, DOMAIN, stun_issue_id(self.runtime.identity.serial))
        await super().async_will_remove_from_hass()

    async def async_refresh_providers(self, *, write_state: bool = True) -> None:
        """Check the STUN server browsers would be given whenever WebRTC providers change."""
        await super().async_refresh_providers(write_state=write_state)
        await async_check_default_stun(self.hass, self, self.runtime.identity.serial)

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
