"""The Dahua/Amcrest personality: CGI over HTTP behind digest auth, and the event stream."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
import uuid

from aiohttp import web

from .events import BOUNDARY, GARBAGE, EventHub
from .http import Handler, check_answer_faults
from .personality import deeply_nested

if TYPE_CHECKING:
    from .device import VirtualDoorbell

_PATH = "/cam/realmonitor"


def _text(lines: list[str], status: int = 200) -> web.Response:
    """Answer with `key=value` lines the way the firmware does."""
    return web.Response(text="".join(f"{line}\r\n" for line in lines), status=status)


def _bad_request() -> web.Response:
    return _text(["Error", "Bad Request!"], status=400)


def rtsp_source(path: str, query: Mapping[str, Sequence[str]]) -> int | None:
    """Return the `subtype` of a `/cam/realmonitor` URL on channel 1, or None."""
    subtype = query.get("subtype", ["0"])[0]
    if path != _PATH or list(query.get("channel", ["1"])) != ["1"] or not subtype.isdigit():
        return None
    return int(subtype)


class DahuaPersonality:
    """A Dahua, Amcrest, Lorex or IMOU doorbell as its firmware presents itself."""

    def __init__(self, device: VirtualDoorbell) -> None:
        """Serve `device`'s state; the event hub fans parts out to every client."""
        self._device = device
        self.events = EventHub(device.state)

    def add_routes(self, app: web.Application) -> None:
        """Add the CGI paths, each behind digest auth."""
        for path, handler in (
            ("/cgi-bin/magicBox.cgi", self._magic_box),
            ("/cgi-bin/configManager.cgi", self._config_manager),
            ("/cgi-bin/snapshot.cgi", self._snapshot),
            ("/cgi-bin/eventManager.cgi", self._event_manager),
        ):
            app.router.add_get(path, self._digest(handler))

    def rtsp_path(self, subtype: int) -> str:
        """Return `/cam/realmonitor?channel=1&subtype=N`."""
        return f"{_PATH}?channel=1&subtype={subtype}"

    def rtsp_source(self, path: str, query: Mapping[str, Sequence[str]]) -> int | None:
        """Return the `subtype` of a `/cam/realmonitor` URL on channel 1."""
        return rtsp_source(path, query)

    def press(self) -> None:
        """Publish the model's press events."""
        self.events.publish(self._device.state.model.press_parts(uuid.uuid4().hex[:12]))

    def motion(self, start: bool) -> None:
        """Publish `VideoMotion`."""
        self.events.publish([self._device.state.model.motion_part(start)])

    def person(self, start: bool) -> bool:
        """Publish `SmartMotionHuman` where the model has it."""
        part = self._device.state.model.person_part(start)
        if part is not None:
            self.events.publish([part])
        return part is not None

    def drop_events(self) -> None:
        """Close every event stream."""
        self.events.drop_all()

    def stall(self, stalled: bool) -> None:
        """Stop (or resume) every event stream, heartbeats included."""
        self.events.stall(stalled)

    def garbage(self) -> None:
        """Send malformed parts on every event stream."""
        for chunk in GARBAGE:
            self.events.send_raw(chunk)

    def deep_nesting(self, nested: bool) -> None:
        """Send, on every event stream, an event whose data is nested too deep."""
        if nested:
            self.events.publish(
                [f'Code=NestedTooDeep;action=Start;index=0;data={{"Id":{deeply_nested()}}}']
            )

    def _digest(self, handler: Handler) -> Handler:
        auth = self._device.auth

        async def checked(request: web.Request) -> web.StreamResponse:
            if not auth.verify(request.method, request.headers.get("Authorization")):
                return web.Response(
                    status=401,
                    text="Unauthorized",
                    headers={"WWW-Authenticate": auth.challenge()},
                )
            check_answer_faults(self._device.state.faults)
            return await handler(request)

        return checked

    async def _magic_box(self, request: web.Request) -> web.Response:
        state = self._device.state
        action = request.query.get("action")
        lines = {
            "getDeviceType": [f"type={state.model.device_type}"],
            "getSerialNo": [f"sn={state.serial}"],
            "getSoftwareVersion": [f"version={state.firmware}"],
            "getMachineName": [f"name={state.model.name}"],
            "getSystemInfo": [
                f"deviceType={state.model.device_type}",
                "processor=SSC335",
                f"serialNumber={state.serial}",
                f"updateSerial={state.model.device_type}-V2",
            ],
        }.get(action or "")
        return _bad_request() if lines is None else _text(lines)

    async def _config_manager(self, request: web.Request) -> web.Response:
        state = self._device.state
        action = request.query.get("action")
        if action == "setConfig":
            value = request.query.get("T2UServer.Enable")
            if value not in ("true", "false"):
                return _bad_request()
            if not state.cloud_locked:
                state.cloud_enabled = value == "true"
            return _text(["OK"])
        tables = {
            "RTSP": [
                "table.RTSP.Enable=true",
                f"table.RTSP.Port={state.rtsp_port}",
                "table.RTSP.RTP.EndPort=40000",
                "table.RTSP.RTP.StartPort=20000",
            ],
            "T2UServer": [f"table.T2UServer.Enable={'true' if state.cloud_enabled else 'false'}"],
            "Network": [
                "table.Network.DefaultInterface=eth0",
                f"table.Network.eth0.PhysicalAddress={state.mac.lower()}",
            ],
        }
        lines = tables.get(request.query.get("name", "")) if action == "getConfig" else None
        return _bad_request() if lines is None else _text(lines)

    async def _snapshot(self, request: web.Request) -> web.Response:
        if request.query.get("channel", "1") != "1":
            return _bad_request()
        jpeg = await self._device.snapshot_jpeg()
        return web.Response(body=jpeg, content_type="image/jpeg")

    async def _event_manager(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("action") != "attach":
            return _bad_request()
        try:
            heartbeat = int(request.query.get("heartbeat", "5"))
        except ValueError:
            return _bad_request()
        if not 1 <= heartbeat <= self._device.state.heartbeat_max:
            return _bad_request()
        codes_arg = request.query.get("codes", "[All]").strip("[]")
        codes = None if codes_arg == "All" else frozenset(c for c in codes_arg.split(",") if c)
        client = self.events.attach(codes)
        return await self.events.serve(
            request, client, BOUNDARY, lambda write: self.events.stream(client, write, heartbeat)
        )
