"""Fixtures shared by every test: the virtual doorbell, started in-process on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import contextlib
from dataclasses import dataclass, field, replace
import ipaddress
import re
import socket

import aiohttp
import pytest
import pytest_socket

# Import our package so that Home Assistant loads it, not the test plugin's copy.
import custom_components.local_doorbell  # noqa: F401
from virtual_doorbell import VideoSettings, VirtualDoorbell
from virtual_doorbell.audio import AudioCodec

# Small pictures keep the encoder cheap; the RTSP tests check the full-size path.
TEST_VIDEO = VideoSettings(width=320, height=240, fps=10, gop_seconds=1.0, bitrate=200_000)
PASSWORD = "doorbell-test-password"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """Return a client session closed after the test."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def doorbell_model() -> str:
    """Return the model the `doorbell` fixture simulates; override to change it."""
    return "AD410"


@pytest.fixture
def audio() -> AudioCodec:
    """Return the sound the `doorbell` fixture sends: none; parametrize `audio` to change it."""
    return "none"


@pytest.fixture
async def doorbell(
    socket_enabled: None, doorbell_model: str, audio: AudioCodec
) -> AsyncIterator[VirtualDoorbell]:
    """Run a virtual doorbell on ephemeral loopback ports."""
    async with _running(doorbell_model, replace(TEST_VIDEO, audio=audio)) as device:
        yield device


@pytest.fixture
async def other_doorbell(socket_enabled: None) -> AsyncIterator[VirtualDoorbell]:
    """Run a second virtual doorbell, of another model, for tests of two doorbells."""
    async with _running("AD110", TEST_VIDEO) as device:
        yield device


@contextlib.asynccontextmanager
async def _running(model: str, video: VideoSettings) -> AsyncIterator[VirtualDoorbell]:
    """Run a virtual doorbell of a model until the exit."""
    device = VirtualDoorbell(password=PASSWORD, model=model, video=video)
    await device.start()
    try:
        yield device
    finally:
        await device.stop()


@dataclass(slots=True)
class RedirectingRtsp:
    """An RTSP endpoint on 127.0.0.1 that redirects to another host, and what reached both."""

    port: int = 0
    requests: list[bytes] = field(default_factory=list)  # request lines it was sent
    elsewhere: list[bytes] = field(default_factory=list)  # what the other host was sent


@pytest.fixture
async def redirecting_rtsp(socket_enabled: None) -> AsyncIterator[RedirectingRtsp]:
    """Answer every RTSP request with 302 to 127.0.0.2, which records whoever follows it."""
    found = RedirectingRtsp()
    tasks: set[asyncio.Task[None]] = set()

    async def other_host(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        found.elsewhere.append(await reader.read(1024))
        writer.close()

    async def redirect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while request := await reader.readuntil(b"\r\n\r\n"):
                found.requests.append(request.partition(b"\r\n")[0])
                cseq = re.search(rb"(?im)^cseq:\s*(\d+)", request)
                writer.write(
                    b"RTSP/1.0 302 Moved Temporarily\r\nCSeq: %s\r\n"
                    b"Location: rtsp://127.0.0.2:%d/elsewhere\r\n\r\n"
                    % (cseq[1] if cseq else b"0", elsewhere_port)
                )
        writer.close()
        tasks.discard(task)

    elsewhere = await asyncio.start_server(other_host, "127.0.0.2", 0)
    elsewhere_port = elsewhere.sockets[0].getsockname()[1]
    server = await asyncio.start_server(redirect, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    yield found
    for listener in (server, elsewhere):
        listener.close()
        listener.abort_clients()
        await listener.wait_closed()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture(scope="session")
def connect_attempts() -> Iterator[list[object]]:
    """Collect every socket connect of the whole run; fail the run if one left 127.0.0.0/8.

    The harness blocks such connects already; this proves none was even attempted. (FFmpeg's
    own connects happen in C: their addresses pass the egress guard in Python first.)
    """
    attempted: list[object] = []
    yield attempted
    outside = [address for address in attempted if not _loopback(address)]
    assert not outside, f"connections attempted outside loopback: {outside}"


@pytest.fixture(autouse=True)
def record_connects(connect_attempts: list[object]) -> Iterator[None]:
    """Record this test's connect attempts, including those the harness then refuses."""
    # Before each test the harness puts its guard on the real socket class (and swaps
    # socket.socket for a subclass that refuses to be created): wrap the guard itself.
    real = pytest_socket._true_socket
    originals = {name: getattr(real, name) for name in ("connect", "connect_ex")}

    def recording(original: Callable[..., object]) -> Callable[..., object]:
        def connect(sock: socket.socket, address: object) -> object:
            connect_attempts.append(address)
            return original(sock, address)

        return connect

    for name, original in originals.items():
        setattr(real, name, recording(original))
    yield
    for name, original in originals.items():
        setattr(real, name, original)


def _loopback(address: object) -> bool:
    """Tell whether a connect target is a Unix socket or a loopback address."""
    if isinstance(address, (str, bytes)):
        return True  # a Unix domain socket
    host = str(address[0]) if isinstance(address, tuple) else ""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False
