"""Any RTSP camera with a separate button: video from URLs, presses pushed in by the caller."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from urllib.parse import unquote, urlsplit, urlunsplit

import aiohttp
import av
from yarl import URL

from ..privacy.logsafe import mask_url
from .base import CannotConnect, DeviceIdentity, DoorbellEvent, EventKind, InvalidAuth, StreamUrls
from .rtsp_relay import STREAM_SCHEMES, RtspRelay
from .snapshots import fetch_jpeg

OPEN_TIMEOUT = 10.0
SNAPSHOT_SCHEMES = ("http", "https")


class GenericDoorbell:
    """A camera reached by its RTSP URL; its button and motion come from `push()`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        stream_url: str,
        snapshot_url: str | None,
        name: str,
        serial: str,
        has_motion: bool = False,
        open_timeout: float = OPEN_TIMEOUT,
    ) -> None:
        """Describe the camera; nothing is opened before the first call."""
        if urlsplit(stream_url).scheme not in STREAM_SCHEMES:
            raise ValueError("the stream URL must use RTSP or RTSPS")
        if snapshot_url and urlsplit(snapshot_url).scheme not in SNAPSHOT_SCHEMES:
            raise ValueError("the snapshot URL must use HTTP or HTTPS")
        self._session = session
        self._stream_url = stream_url
        self._snapshot_url = snapshot_url or None
        self._name = name
        self._serial = serial
        self._has_motion = has_motion
        self._open_timeout = open_timeout
        self._queue: asyncio.Queue[DoorbellEvent] = asyncio.Queue()

    async def probe(self) -> DeviceIdentity:
        """Open the stream once, through the relay; fetch a snapshot if there is a URL for one."""
        async with RtspRelay() as relay:
            codec = await asyncio.to_thread(
                self._open_stream, await relay.local_url(self._stream_url)
            )
        if self._snapshot_url:
            await self.snapshot()
        return DeviceIdentity(
            manufacturer="Generic",
            model=f"RTSP camera ({codec.upper()})",
            serial=self._serial,
            firmware="",
            has_motion=self._has_motion,
        )

    def push(self, event: DoorbellEvent) -> None:
        """Hand in an event from the button or the motion sensor."""
        self._queue.put_nowait(event)

    async def events(self) -> AsyncGenerator[DoorbellEvent]:
        """Yield ONLINE, then every pushed event; the button's source has no connection."""
        yield DoorbellEvent(kind=EventKind.ONLINE)
        while True:
            yield await self._queue.get()

    async def stream_urls(self) -> StreamUrls:
        """Return the configured stream, main and sub alike."""
        return StreamUrls(main=self._stream_url, sub=self._stream_url)

    async def snapshot(self) -> bytes:
        """Return a JPEG from the snapshot URL; raise CannotConnect without one."""
        if self._snapshot_url is None:
            raise CannotConnect(f"{self._name} has no snapshot URL")
        parts = urlsplit(self._snapshot_url)
        # The user name and password go in headers, never in the request line.
        url = URL(urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2])))
        return await fetch_jpeg(
            self._session,
            url,
            name=mask_url(self._snapshot_url),
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )

    def _open_stream(self, url: str) -> str:
        """Open the relay's `url` and return the video codec (blocking: run in a thread)."""
        options = {
            "rtsp_transport": "tcp",
            "timeout": str(round(self._open_timeout * 1e6)),
            # The SDP names the codec: no need to wait for seconds of video.
            "analyzeduration": "1",
            "probesize": "32",
        }
        try:
            container = av.open(url, options=options, timeout=(self._open_timeout, None))
        except av.HTTPUnauthorizedError as err:
            raise InvalidAuth(f"{mask_url(self._stream_url)} refused the credentials") from err
        except (av.FFmpegError, OSError) as err:
            # FFmpeg's message repeats the URL, password included: keep only its reason.
            reason = getattr(err, "strerror", None) or type(err).__name__
            raise CannotConnect(f"{mask_url(self._stream_url)} did not stream: {reason}") from err
        try:
            if not container.streams.video:
                raise CannotConnect(f"{mask_url(self._stream_url)} has no video")
            return str(container.streams.video[0].codec_context.name)
        finally:
            container.close()
