"""The DoorBird personality: the LAN-2-LAN API (rev. 0.36), its limits and the monitor stream."""

from __future__ import annotations

import asyncio
import base64
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
import contextlib
from dataclasses import dataclass
import hashlib
import secrets
from typing import TYPE_CHECKING

from aiohttp import hdrs, web
from multidict import CIMultiDict

from custom_components.local_doorbell.rtsp.digest import DigestAuthenticator

from .event_clients import StreamClient, StreamHub, Write
from .http import Handler, check_answer_faults
from .personality import deeply_nested
from .state import DeviceState

if TYPE_CHECKING:
    from .device import VirtualDoorbell

INPUTS = ("doorbell", "motionsensor")
# As the Content-Type names it: the leading dashes belong to the parameter.
BOUNDARY = "--ioboundary"
FIRMWARE = "000109"
MAC_PREFIX = "1C:CA:E3"  # Bird Home Automation's OUI
RING_PERMISSION_SECONDS = 60.0  # image.cgi serves users without "watch always" after a ring
RTSP_MAIN = "/mpeg/media.amp"
RTSP_SUB = "/mpeg/720p/media.amp"
_POLL = 0.1  # how often a waiting monitor stream checks that its client is still there
GARBAGE = (
    b"\x00\xff\xfe garbage \x81\x82\r\n",
    b"doorbell:H\r\n\r\n",  # outside any part
    b"--ioboundary\r\nContent-Type: text/plain\r\n\r\ndoorbell\r\n\r\n",
    b"--ioboundary\r\nContent-Type: text/plain\r\n\r\ndoorbell:X\r\n\r\n",
    b"--ioboundary\r\nContent-Type: text/plain\r\n\r\nrelay:H\r\n\r\n",
    b"--ioboundary\r\nContent-Type: text/plain\r\n",  # a part cut off after its headers
)


def format_part(name: str, high: bool) -> bytes:
    """Return one monitor part as the firmware writes it."""
    level = "H" if high else "L"
    return f"{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\n{name}:{level}\r\n\r\n".encode()


def mac_for(serial: str) -> str:
    """Return a stable DoorBird MAC address for a simulated device."""
    digest = hashlib.sha256(serial.encode()).hexdigest().upper()
    return ":".join([MAC_PREFIX, digest[0:2], digest[2:4], digest[4:6]])


@dataclass(slots=True, kw_only=True)
class DoorBirdSettings:
    """The firmware's timings and limits; tests shorten them."""

    build_number: str = "15120529"
    keepalive: float = 20.0  # an idle monitor stream repeats its inputs' state this often
    release_after: float = 1.0  # how long `doorbell:H` lasts after a press
    max_streams: int = 8  # more monitor streams get 509
    burst: int = 20  # requests per client within one second before 503
    lockout_failures: int = 5  # wrong credentials within `lockout_window` that lock a client out
    lockout_window: float = 60.0
    lockout_seconds: float = 60.0  # how long a locked-out client gets 423
    watch_always: bool = True  # False: the user lacks the permission and monitor.cgi answers 204


@dataclass(eq=False, slots=True)
class Monitor(StreamClient):
    """One open monitor stream: the inputs it asked for and the parts waiting for it."""

    inputs: tuple[str, ...]


class MonitorHub(StreamHub[Monitor]):
    """The inputs' levels and every monitor stream they are sent to."""

    def __init__(self, state: DeviceState) -> None:
        """Start with every input low and no streams."""
        super().__init__(state)
        self.levels = dict.fromkeys(INPUTS, False)
        self.keepalives = 0  # keep-alive writes so far, for tests

    def set(self, name: str, high: bool) -> None:
        """Change an input and tell every stream that asked for it; a non-change sends nothing."""
        if self.levels[name] == high:
            return
        self.levels[name] = high
        for client in self.clients:
            if name in client.inputs:
                client.offer(format_part(name, high))

    def current(self, inputs: tuple[str, ...]) -> bytes:
        """Return the parts that tell the inputs' levels now."""
        return b"".join(format_part(name, self.levels[name]) for name in inputs)

    def attach(self, inputs: tuple[str, ...]) -> Monitor:
        """Register a stream; its first parts are the inputs' current levels."""
        client = Monitor(inputs)
        client.offer(self.current(inputs))
        return self._add(client)

    async def stream(
        self,
        client: Monitor,
        write: Write,
        connected: Callable[[], bool],
        keepalive: float,
    ) -> None:
        """Write a stream's parts, repeating its levels when idle, until dropped or gone."""
        loop = asyncio.get_running_loop()
        due = loop.time() + keepalive
        while connected():
            repeat = False
            try:
                async with asyncio.timeout(min(_POLL, due - loop.time())):
                    chunk = await client.queue.get()
            except TimeoutError:
                if loop.time() < due:
                    continue
                chunk, repeat = self.current(client.inputs), True
            if chunk is None or not await self._flowing_or_gone(connected):
                return
            await write(chunk)
            if repeat:
                self.keepalives += 1
            due = loop.time() + keepalive

    async def _flowing_or_gone(self, connected: Callable[[], bool]) -> bool:
        """Wait while the device stalls; tell whether the client is still there."""
        while not self._flowing.is_set() and connected():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_POLL):
                    await self._flowing.wait()
        return connected()


class _Limits:
    """Each client's request rate and wrong-credential lockout."""

    def __init__(self, settings: DoorBirdSettings) -> None:
        self._settings = settings
        self._requests: defaultdict[str, deque[float]] = defaultdict(deque)
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._locked_until: dict[str, float] = {}

    def locked(self, client: str, now: float) -> bool:
        """Tell whether a client is locked out."""
        return self._locked_until.get(client, 0.0) > now

    def admit(self, client: str, now: float) -> bool:
        """Count a request; tell whether the client stays within its burst."""
        recent = _recent(self._requests[client], now, 1.0)
        if len(recent) >= self._settings.burst:
            return False
        recent.append(now)
        return True

    def failed(self, client: str, now: float) -> None:
        """Count wrong credentials; lock the client out when they pile up."""
        failures = _recent(self._failures[client], now, self._settings.lockout_window)
        failures.append(now)
        if len(failures) >= self._settings.lockout_failures:
            failures.clear()
            self._locked_until[client] = now + self._settings.lockout_seconds


def _recent(times: deque[float], now: float, window: float) -> deque[float]:
    """Drop the times older than `window` seconds and return the rest."""
    while times and times[0] <= now - window:
        times.popleft()
    return times


class DoorBirdPersonality:
    """A DoorBird door station as its firmware presents itself on the LAN."""

    def __init__(self, device: VirtualDoorbell) -> None:
        """Serve `device`'s state; the device's MAC address becomes a DoorBird one."""
        self._device = device
        self.settings = DoorBirdSettings()
        self.monitors = MonitorHub(device.state)
        self._limits = _Limits(self.settings)
        self._release: asyncio.TimerHandle | None = None
        self._last_press = float("-inf")
        device.state.firmware = FIRMWARE
        device.state.mac = mac_for(device.state.serial)

    def add_routes(self, app: web.Application) -> None:
        """Add the `/bha-api/` paths, each behind the firmware's limits and authentication."""
        for path, handler in (
            ("/bha-api/info.cgi", self._info),
            ("/bha-api/image.cgi", self._image),
            ("/bha-api/monitor.cgi", self._monitor),
        ):
            app.router.add_get(path, self._guarded(handler))
        app.on_cleanup.append(self._cleanup)

    def rtsp_path(self, subtype: int) -> str:
        """Return `/mpeg/media.amp` (main) or `/mpeg/720p/media.amp` (sub)."""
        return RTSP_SUB if subtype else RTSP_MAIN

    def rtsp_source(self, path: str, query: Mapping[str, Sequence[str]]) -> int | None:
        """Return the stream an RTSP path names; the query does not matter."""
        return {RTSP_MAIN: 0, RTSP_SUB: 1}.get(path)

    def press(self) -> None:
        """Raise `doorbell` and lower it again after `release_after` seconds."""
        loop = asyncio.get_running_loop()
        self._last_press = loop.time()
        self.monitors.set("doorbell", True)
        if self._release is not None:
            self._release.cancel()
        self._release = loop.call_later(
            self.settings.release_after, self.monitors.set, "doorbell", False
        )

    def motion(self, start: bool) -> None:
        """Raise or lower `motionsensor`."""
        self.monitors.set("motionsensor", start)

    def person(self, start: bool) -> bool:
        """Report nothing: DoorBird has no person detection."""
        return False

    def drop_events(self) -> None:
        """Close every monitor stream."""
        self.monitors.drop_all()

    def stall(self, stalled: bool) -> None:
        """Stop (or resume) every monitor stream, keep-alives included."""
        self.monitors.stall(stalled)

    def garbage(self) -> None:
        """Send malformed parts on every monitor stream."""
        for chunk in GARBAGE:
            self.monitors.send_raw(chunk)

    def deep_nesting(self, nested: bool) -> None:
        """Answer info.cgi with JSON nested too deep (or as usual again)."""
        self._device.state.faults.deep_nesting = nested

    async def _cleanup(self, app: web.Application) -> None:
        """Forget the pending release when the device stops."""
        if self._release is not None:
            self._release.cancel()

    def _guarded(self, handler: Handler) -> Handler:
        """Wrap a handler in the lockout (423), the rate limit (503) and authentication (401)."""

        async def checked(request: web.Request) -> web.StreamResponse:
            client = request.remote or ""
            now = asyncio.get_running_loop().time()
            if self._limits.locked(client, now):
                return web.Response(status=423, text="Locked")
            if not self._limits.admit(client, now):
                return web.Response(status=503, text="Service Unavailable")
            verdict = self._authenticated(request)
            if verdict is not True:
                if verdict is False:  # a request without credentials is only a challenge
                    self._limits.failed(client, now)
                return web.Response(status=401, text="Unauthorized", headers=self._challenges())
            check_answer_faults(self._device.state.faults)
            return await handler(request)

        return checked

    def _authenticated(self, request: web.Request) -> bool | None:
        """Check basic, digest or `http-user`/`http-password`; None when none was given."""
        auth = self._device.auth
        user = request.query.get("http-user")
        if user is not None:
            return _matches(auth, user, request.query.get("http-password", ""))
        header = request.headers.get(hdrs.AUTHORIZATION)
        if not header:
            return None
        if header.partition(" ")[0].lower() != "basic":
            return auth.verify(request.method, header)
        try:
            decoded = base64.b64decode(header.partition(" ")[2], validate=True).decode()
        except ValueError:
            return False
        user, sep, password = decoded.partition(":")
        return bool(sep) and _matches(auth, user, password)

    def _challenges(self) -> CIMultiDict[str]:
        """Return the `WWW-Authenticate` headers of a 401: digest first, then basic."""
        auth = self._device.auth
        return CIMultiDict(
            [
                (hdrs.WWW_AUTHENTICATE, auth.challenge()),
                (hdrs.WWW_AUTHENTICATE, f'Basic realm="{auth.realm}"'),
            ]
        )

    async def _info(self, request: web.Request) -> web.Response:
        state = self._device.state
        if state.faults.deep_nesting:
            body = f'{{"BHA":{{"RETURNCODE":"1","VERSION":{deeply_nested()}}}}}'
            return web.Response(text=body, content_type="application/json")
        version = {
            "FIRMWARE": state.firmware,
            "BUILD_NUMBER": self.settings.build_number,
            "PRIMARY_MAC_ADDR": state.mac.replace(":", "").upper(),
            "RELAYS": ["1"],
            "DEVICE-TYPE": state.model.device_type,
        }
        return web.json_response({"BHA": {"RETURNCODE": "1", "VERSION": [version]}})

    async def _image(self, request: web.Request) -> web.Response:
        since_press = asyncio.get_running_loop().time() - self._last_press
        if not self.settings.watch_always and since_press > RING_PERMISSION_SECONDS:
            return web.Response(status=204)
        jpeg = await self._device.snapshot_jpeg()
        return web.Response(body=jpeg, content_type="image/jpeg")

    async def _monitor(self, request: web.Request) -> web.StreamResponse:
        asked = request.query.get("ring", "").split(",")
        inputs = tuple(name for name in INPUTS if name in asked)
        if not inputs:
            return web.Response(status=400, text="Bad Request")
        if not self.settings.watch_always:
            return web.Response(status=204)
        if len(self.monitors.clients) >= self.settings.max_streams:
            return web.Response(status=509, reason="Bandwidth Limit Exceeded")
        client = self.monitors.attach(inputs)

        async def stream(write: Write) -> None:
            await self.monitors.stream(
                client, write, lambda: request.transport is not None, self.settings.keepalive
            )

        return await self.monitors.serve(request, client, BOUNDARY, stream)


def _matches(auth: DigestAuthenticator, user: str, password: str) -> bool:
    """Compare credentials with the device's account; a refusing device matches none."""
    same_user = secrets.compare_digest(user.encode(), auth.username.encode())
    same_password = secrets.compare_digest(password.encode(), auth.password.encode())
    return same_user and same_password and not auth.refuse_all
