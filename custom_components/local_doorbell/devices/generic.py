"""Any RTSP camera with a separate button: video from URLs, presses pushed in by the caller."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator
import logging
from urllib.parse import unquote, urlsplit, urlunsplit

import aiohttp
from aiohttp import hdrs
import av

from ..recording.logsafe import mask_url
from .base import CannotConnect, DeviceInfo, DoorbellEvent, EventKind, InvalidAuth, StreamUrls

_LOGGER = logging.getLogger(__name__)

OPEN_TIMEOUT = 10.0
_TIMEOUT = aiohttp.ClientTimeout(total=OPEN_TIMEOUT)
DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
STREAM_SCHEMES = ("rtsp", "rtsps")
SNAPSHOT_SCHEMES = ("http", "https")


def host_and_port(url: str) -> tuple[str, int]:
    """Return the host (no brackets) and port a URL names; raise ValueError if it names none."""
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in DEFAULT_PORTS:
        raise ValueError("the URL names no host")
    return parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]


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

    async def probe(self) -> DeviceInfo:
        """Open the stream once (and fetch a snapshot, if there is a URL for one)."""
        codec = await asyncio.to_thread(self._open_stream)
        if self._snapshot_url:
            await self.snapshot()
        return DeviceInfo(
            manufacturer="RTSP camera",
            model=f"{self._name} ({codec.upper()})",
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
        url, auth = _split_credentials(self._snapshot_url)
        image = await self._get(url, auth)
        if not image.startswith(b"\xff\xd8"):
            raise CannotConnect(f"{mask_url(url)} did not send a JPEG")
        return image

    async def _get(self, url: str, auth: tuple[str, str] | None) -> bytes:
        """Fetch with digest auth, or basic auth where the camera asks for that."""
        middlewares: tuple[aiohttp.DigestAuthMiddleware, ...] = ()
        if auth is not None:
            try:
                middlewares = (aiohttp.DigestAuthMiddleware(*auth),)
            except ValueError as err:  # a ':' in the user name, which digest cannot carry
                raise InvalidAuth(str(err)) from err
        try:
            async with self._session.get(
                url, middlewares=middlewares, allow_redirects=False, timeout=_TIMEOUT
            ) as response:
                challenge = response.headers.get(hdrs.WWW_AUTHENTICATE, "")
                if response.status == 401 and auth and challenge.lower().startswith("basic"):
                    basic_auth = base64.b64encode(":".join(auth).encode()).decode()
                    async with self._session.get(
                        url,
                        headers={hdrs.AUTHORIZATION: f"Basic {basic_auth}"},
                        allow_redirects=False,
                        timeout=_TIMEOUT,
                    ) as basic:
                        return await _body(basic, url)
                return await _body(response, url)
        except (aiohttp.ClientError, OSError) as err:
            raise CannotConnect(f"{mask_url(url)} did not answer: {err!r}") from err

    def _open_stream(self) -> str:
        """Open the stream and return its video codec (blocking: run in a thread)."""
        options = {
            "rtsp_transport": "tcp",
            "timeout": str(round(self._open_timeout * 1e6)),
            # The SDP names the codec: no need to wait for seconds of video.
            "analyzeduration": "1",
            "probesize": "32",
        }
        try:
            container = av.open(
                self._stream_url, options=options, timeout=(self._open_timeout, None)
            )
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


async def _body(response: aiohttp.ClientResponse, url: str) -> bytes:
    if response.status == 401:
        raise InvalidAuth(f"{mask_url(url)} refused the credentials")
    if response.status != 200:
        raise CannotConnect(f"{mask_url(url)} answered HTTP {response.status}")
    return await response.read()


def _split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """Take the user name and password out of a URL: they go in headers, not the request line."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    netloc = parts.netloc.rpartition("@")[2]
    auth = (unquote(parts.username), unquote(parts.password or ""))
    return urlunsplit(parts._replace(netloc=netloc)), auth
