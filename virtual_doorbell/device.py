"""The virtual doorbell: one device with its web server, RTSP server, video and faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import asdict, dataclass, replace
import hashlib
import logging
import secrets

from aiohttp import web

from custom_components.local_doorbell.rtsp.digest import DigestAuthenticator

from .audio import AudioCodec
from .dahua import DahuaPersonality
from .doorbird import DoorBirdPersonality
from .http import build_app
from .models import MODELS, Protocol
from .onvif import OnvifPersonality
from .personality import Personality
from .rtsp import DeviceRtspServer
from .state import DeviceState
from .video import VideoSource

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoSettings:
    """How the main stream is encoded: `VideoSource`'s parameters."""

    width: int = 1920
    height: int = 1080
    fps: int = 15
    gop_seconds: float = 2.0
    bitrate: int = 2_000_000
    audio: AudioCodec = "none"

    def sub_stream(self) -> VideoSettings:
        """Return the sub-stream's: a third of the width and height, an eighth of the bitrate."""
        return replace(
            self,
            width=_even(self.width // 3),
            height=_even(self.height // 3),
            bitrate=max(self.bitrate // 8, 64_000),
            audio="none",
        )


class VirtualDoorbell:
    """A simulated doorbell serving its vendor's HTTP API and RTSP on loopback."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        http_port: int = 0,
        rtsp_port: int = 0,
        password: str,
        username: str = "admin",
        model: str = "AD410",
        serial: str | None = None,
        video: VideoSettings | None = None,
    ) -> None:
        """Describe the device; nothing runs before `start()`."""
        profile = MODELS[model]
        self.host = host
        self.username = username
        self.password = password
        self.state = DeviceState(
            model=profile,
            serial=serial or serial_for(model, host, http_port or secrets.randbits(32)),
            rtsp_port=rtsp_port,
        )
        self.auth = DigestAuthenticator("Login to " + self.state.serial, username, password)
        self.personality: Personality = _PERSONALITIES[profile.protocol](self)
        settings = video or VideoSettings()
        self._main = VideoSource(**asdict(settings))
        self._sub = VideoSource(**asdict(settings.sub_stream()))
        self._http_port = http_port
        self._runner: web.AppRunner | None = None
        self._rtsp: DeviceRtspServer | None = None
        self._reboot_task: asyncio.Task[None] | None = None

    @property
    def http_port(self) -> int:
        """Return the bound HTTP port."""
        return self._http_port

    @property
    def rtsp_port(self) -> int:
        """Return the bound RTSP port."""
        return self.state.rtsp_port

    @property
    def url(self) -> str:
        """Return the device's base URL."""
        return f"http://{self.host}:{self._http_port}"

    def rtsp_url(self, subtype: int = 0, *, credentials: bool = True) -> str:
        """Return the RTSP URL of the main (0) or sub (1) stream."""
        auth = f"{self.username}:{self.password}@" if credentials else ""
        path = self.personality.rtsp_path(subtype)
        return f"rtsp://{auth}{self.host}:{self.rtsp_port}{path}"

    async def start(self) -> None:
        """Start the encoders and both servers."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._main.start)
        await loop.run_in_executor(None, self._sub.start)
        self._rtsp = DeviceRtspServer(
            self.host,
            self.state.rtsp_port,
            self.auth,
            {0: self._main, 1: self._sub},
            self.state,
            resolve=self.personality.rtsp_source,
        )
        self.state.rtsp_port = await self._rtsp.start()
        self._runner = web.AppRunner(build_app(self), handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._http_port, reuse_address=True)
        await site.start()
        self._http_port = self._runner.addresses[0][1]
        _LOGGER.info("Virtual doorbell %s serving %s", self.state.serial, self.url)

    async def stop(self) -> None:
        """Stop everything that `start()` started."""
        if self._reboot_task is not None:
            self._reboot_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reboot_task
        self.personality.drop_events()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._rtsp is not None:
            await self._rtsp.stop()
            self._rtsp = None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._main.stop)
        await loop.run_in_executor(None, self._sub.stop)

    def current_frame(self) -> int:
        """Return the frame counter the main stream's picture shows now."""
        return self._main.current_frame()

    async def snapshot_jpeg(self) -> bytes:
        """Return a JPEG of the current picture."""
        return await asyncio.get_running_loop().run_in_executor(None, self._main.snapshot_jpeg)

    def press(self) -> None:
        """Press the button; the state keeps which picture the main stream was sending."""
        self.state.press_frame = self.current_frame()
        self.state.counters.presses += 1
        self.personality.press()

    def motion(self, start: bool) -> None:
        """Start or stop motion."""
        self.state.counters.motion_events += 1
        self.personality.motion(start)

    def person(self, start: bool) -> bool:
        """Start or stop a person in view; return False if the model does not report people."""
        if not self.personality.person(start):
            return False
        self.state.counters.person_events += 1
        return True

    async def fault(self, kind: str, seconds: float = 5.0) -> None:
        """Inject a fault; `clear_faults()` ends the lasting ones."""
        faults = self.state.faults
        if kind == "drop_events":
            self.personality.drop_events()
        elif kind == "stall":
            self.personality.stall(True)
        elif kind == "garbage":
            self.personality.garbage()
        elif kind == "refuse_auth":
            self.auth.refuse_all = True
        elif kind == "malformed_status":
            faults.malformed_status = True
        elif kind == "oversized":
            faults.oversized = True
        elif kind == "deep_nesting":
            self.personality.deep_nesting(True)
        elif kind == "stop_video":
            faults.stop_video = True
        elif kind == "jump_timestamps":
            self.state.rtp_timestamp_offset += int(seconds)
            self.state.counters.timestamp_jumps += 1
        elif kind == "reboot":
            await self._reboot(seconds)
        else:
            raise ValueError(kind)

    def clear_faults(self) -> None:
        """End every lasting fault (a reboot in progress finishes on its own)."""
        self.personality.stall(False)
        self.personality.deep_nesting(False)
        faults = self.state.faults
        faults.stop_video = faults.malformed_status = faults.oversized = False
        self.auth.refuse_all = False

    async def _reboot(self, seconds: float) -> None:
        """Drop every connection and stay unreachable for a while."""
        if self.state.faults.rebooting or self._rtsp is None:
            return
        self.state.faults.rebooting = True
        self.personality.drop_events()
        await self._rtsp.stop()
        self._reboot_task = asyncio.create_task(self._boot_after(seconds))

    async def _boot_after(self, seconds: float) -> None:
        try:
            await asyncio.sleep(seconds)
            if self._rtsp is not None:
                await self._rtsp.start()
        finally:
            self.state.faults.rebooting = False
            self._reboot_task = None


_PERSONALITIES: dict[Protocol, Callable[[VirtualDoorbell], Personality]] = {
    Protocol.DAHUA: DahuaPersonality,
    Protocol.DOORBIRD: DoorBirdPersonality,
    Protocol.ONVIF: OnvifPersonality,
}


def serial_for(model: str, host: str, port: int) -> str:
    """Return a stable, device-like serial number."""
    digest = hashlib.sha256(f"{model}:{host}:{port}".encode()).hexdigest().upper()
    return f"8L0{digest[:12]}"


def _even(value: int) -> int:
    return max(value - value % 2, 16)
