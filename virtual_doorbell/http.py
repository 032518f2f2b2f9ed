"""The device's web server: its personality's API and the simulator's control API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .device import VirtualDoorbell
    from .state import Faults

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
    "malformed_status",
    "oversized",
    "deep_nesting",
)
# A status code of letters: aiohttp's client refuses it with its request (headers and all).
MALFORMED_STATUS = b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n"
OVERSIZED_CHUNK = 64 * 1024
OVERSIZED_CHUNKS = 1024  # 64 MiB, then the endless body ends after all


class ReplacedAnswer(Exception):
    """Raised once a request is authenticated, when a fault replaces its answer."""


def check_answer_faults(faults: Faults) -> None:
    """Raise ReplacedAnswer if a fault replaces the answers to authenticated requests."""
    if faults.malformed_status or faults.oversized:
        raise ReplacedAnswer


def _device(request: web.Request) -> VirtualDoorbell:
    return request.app[DEVICE_KEY]


@web.middleware
async def _reboot_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Drop requests to the device's own paths while it reboots: the connection just dies."""
    if not request.path.startswith("/sim/") and _device(request).state.faults.rebooting:
        if request.transport is not None:
            request.transport.abort()
        raise web.HTTPServiceUnavailable
    return await handler(request)


@web.middleware
async def _replaced_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer as `malformed_status` or `oversized` say, once the handler has authenticated."""
    try:
        return await handler(request)
    except ReplacedAnswer:
        if not _device(request).state.faults.malformed_status:
            return await _endless(request)
        if request.transport is not None:
            request.transport.write(MALFORMED_STATUS)
            request.transport.close()
        raise web.HTTPServiceUnavailable from None  # never sent: the connection is closed


async def _endless(request: web.Request) -> web.StreamResponse:
    """Send a body (a JPEG's start, then zeros) far longer than any answer should be."""
    response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
    await response.prepare(request)
    try:
        await response.write(b"\xff\xd8" + bytes(OVERSIZED_CHUNK - 2))
        for _ in range(OVERSIZED_CHUNKS - 1):
            await response.write(bytes(OVERSIZED_CHUNK))
    except ConnectionError:
        pass  # the client stopped reading, as it should
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
    if not device.person(start):
        return web.json_response({"error": "this model reports no person"}, status=400)
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
    app = web.Application(middlewares=[_reboot_gate, _replaced_answers])
    app[DEVICE_KEY] = device
    device.personality.add_routes(app)
    app.router.add_post("/sim/press", _sim_press)
    app.router.add_post("/sim/motion", _sim_motion)
    app.router.add_post("/sim/person", _sim_person)
    app.router.add_post("/sim/fault", _sim_fault)
    app.router.add_post("/sim/quirk", _sim_quirk)
    app.router.add_get("/sim/state", _sim_state)
    return app
