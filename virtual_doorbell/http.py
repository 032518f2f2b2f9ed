"""The device's web server: Dahua CGI paths behind digest auth, and the simulator's control API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from .events import BOUNDARY

if TYPE_CHECKING:
    from .device import VirtualDoorbell

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEVICE_KEY = web.AppKey["VirtualDoorbell"]("device")
FAULTS = (
    "drop_events",
    "stall",
    "garbage",
    "reboot",
    "refuse_auth",
    "stop_video",
    "jump_timestamps",
)


def _text(lines: list[str], status: int = 200) -> web.Response:
    """Answer with `key=value` lines the way the firmware does."""
    return web.Response(text="".join(f"{line}\r\n" for line in lines), status=status)


def _bad_request() -> web.Response:
    return _text(["Error", "Bad Request!"], status=400)


def _device(request: web.Request) -> VirtualDoorbell:
    return request.app[DEVICE_KEY]


@web.middleware
async def _device_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse device paths while rebooting and without valid digest credentials."""
    if not request.path.startswith("/cgi-bin/"):
        return await handler(request)
    device = _device(request)
    if device.state.faults.rebooting:
        # A rebooting device answers nothing: the connection just dies.
        if request.transport is not None:
            request.transport.abort()
        raise web.HTTPServiceUnavailable
    auth = request.headers.get("Authorization")
    if not device.auth.verify(request.method, auth):
        return web.Response(
            status=401,
            text="Unauthorized",
            headers={"WWW-Authenticate": device.auth.challenge()},
        )
    return await handler(request)


async def _magic_box(request: web.Request) -> web.Response:
    state = _device(request).state
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


async def _config_manager(request: web.Request) -> web.Response:
    state = _device(request).state
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


async def _snapshot(request: web.Request) -> web.Response:
    if request.query.get("channel", "1") != "1":
        return _bad_request()
    jpeg = await _device(request).snapshot_jpeg()
    return web.Response(body=jpeg, content_type="image/jpeg")


async def _event_manager(request: web.Request) -> web.StreamResponse:
    device = _device(request)
    if request.query.get("action") != "attach":
        return _bad_request()
    try:
        heartbeat = int(request.query.get("heartbeat", "5"))
    except ValueError:
        return _bad_request()
    if not 1 <= heartbeat <= device.state.heartbeat_max:
        return _bad_request()
    codes_arg = request.query.get("codes", "[All]").strip("[]")
    codes = None if codes_arg == "All" else frozenset(c for c in codes_arg.split(",") if c)
    response = web.StreamResponse(
        headers={"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}"}
    )
    response.force_close()
    # Attach before answering: a client that has seen the 200 must not miss the next press.
    client = device.events.attach(codes)
    try:
        await response.prepare(request)
        await device.events.stream(client, response.write, heartbeat)
    except ConnectionError:
        pass
    finally:
        device.events.detach(client)
    if request.transport is not None:
        request.transport.close()
    return response


async def _sim_press(request: web.Request) -> web.Response:
    _device(request).press()
    return web.json_response(_device(request).state.as_json())


def _start_stop(request: web.Request) -> bool | None:
    state = request.query.get("state")
    return {"start": True, "stop": False}.get(state or "")


async def _sim_motion(request: web.Request) -> web.Response:
    start = _start_stop(request)
    if start is None:
        return web.json_response({"error": "state must be start or stop"}, status=400)
    _device(request).motion(start)
    return web.json_response(_device(request).state.as_json())


async def _sim_person(request: web.Request) -> web.Response:
    start = _start_stop(request)
    device = _device(request)
    if start is None:
        return web.json_response({"error": "state must be start or stop"}, status=400)
    if not device.state.model.has_person:
        return web.json_response({"error": "this model reports no person"}, status=400)
    device.person(start)
    return web.json_response(device.state.as_json())


async def _sim_fault(request: web.Request) -> web.Response:
    device = _device(request)
    kind = request.query.get("kind", "")
    try:
        seconds = float(request.query.get("seconds", "5"))
    except ValueError:
        return web.json_response({"error": "seconds must be a number"}, status=400)
    if kind == "clear":
        device.clear_faults()
    elif kind in FAULTS:
        await device.fault(kind, seconds)
    else:
        return web.json_response({"error": f"kind must be one of {FAULTS} or clear"}, status=400)
    return web.json_response(device.state.as_json())


async def _sim_quirk(request: web.Request) -> web.Response:
    device = _device(request)
    quirks = device.state.quirks
    for name in ("coalesce_parts", "split_parts", "stray_http_line", "content_length_space"):
        if (value := request.query.get(name)) is not None:
            setattr(quirks, name, value == "true")
    return web.json_response(device.state.as_json())


async def _sim_state(request: web.Request) -> web.Response:
    return web.json_response(_device(request).state.as_json())


def build_app(device: VirtualDoorbell) -> web.Application:
    """Return the device's web application."""
    app = web.Application(middlewares=[_device_gate])
    app[DEVICE_KEY] = device
    app.router.add_get("/cgi-bin/magicBox.cgi", _magic_box)
    app.router.add_get("/cgi-bin/configManager.cgi", _config_manager)
    app.router.add_get("/cgi-bin/snapshot.cgi", _snapshot)
    app.router.add_get("/cgi-bin/eventManager.cgi", _event_manager)
    app.router.add_post("/sim/press", _sim_press)
    app.router.add_post("/sim/motion", _sim_motion)
    app.router.add_post("/sim/person", _sim_person)
    app.router.add_post("/sim/fault", _sim_fault)
    app.router.add_post("/sim/quirk", _sim_quirk)
    app.router.add_get("/sim/state", _sim_state)
    return app
