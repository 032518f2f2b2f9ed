"""The loopback RTSP relay: the checked address only, no redirects, interleaved TCP, bounded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from datetime import UTC, datetime, timedelta
import logging
from pathlib import Path
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

import av
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import pytest

from custom_components.local_doorbell.devices import rtsp_relay
from custom_components.local_doorbell.devices.rtsp_relay import (
    MAX_BODY,
    MAX_CONNECTIONS,
    MAX_HEADER,
    DeviceReader,
    RedirectRefused,
    Refused,
    RtspRelay,
)
from custom_components.local_doorbell.privacy.egress import EgressRefused
from custom_components.local_doorbell.recording.capture.ingest import Ingest
from tests.conftest import PASSWORD, TEST_VIDEO, RedirectingRtsp
from tests.helpers.video import first_picture
from tests.recording.harness import wait_for
from virtual_doorbell import VirtualDoorbell

PYAV_OPTIONS = {"rtsp_transport": "tcp", "timeout": "5000000"}
NAME = "doorbell.lan"
# Every character that has a meaning in a URL, and one that is not ASCII.
ODD_PASSWORD = "a\\b@c:d/e%f#g h?ü"
# As an owner types it: what would end the host part percent-encoded, the rest as it is.
ODD_TYPED = "a\\b@c:d%2Fe%25f%23g h%3Fü"
SETUP = b"SETUP rtsp://127.0.0.1/live/trackID=0 RTSP/1.0\r\nCSeq: 3\r\n\r\n"
OK_HEAD = b"RTSP/1.0 200 OK\r\nCSeq: 3\r\n"
INTERLEAVED = b"Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"


@pytest.fixture
async def relay(socket_enabled: None) -> AsyncIterator[RtspRelay]:
    """Return a relay, closed after the test."""
    async with RtspRelay() as opened:
        yield opened


@pytest.fixture
async def resolver(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Resolve the names in the returned map (IDNA-encoded, as Python does) to their address."""
    names: dict[str, str] = {}
    loop = asyncio.get_running_loop()
    original = loop.getaddrinfo

    async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[tuple[Any, ...]]:
        if (address := names.get(host.encode("idna").decode())) is None:
            return list(await original(host, port, **kwargs))
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return names


class Devices:
    """Devices that answer the first request with fixed bytes and close, or never answer."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.servers: list[asyncio.Server] = []

    async def start(self, answer: bytes) -> str:
        """Start a device; return its URL."""

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                self.requests.append(await reader.readuntil(b"\r\n\r\n"))
                writer.write(answer)
                await writer.drain()
                if not answer:
                    await reader.read()  # until the relay closes
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.servers.append(server)
        return f"rtsp://admin:x@127.0.0.1:{server.sockets[0].getsockname()[1]}/live"


@pytest.fixture
async def devices(socket_enabled: None) -> AsyncIterator[Devices]:
    """Return the devices' starter; stop them after the test."""
    started = Devices()
    yield started
    for server in started.servers:
        server.close()
        server.abort_clients()
        await server.wait_closed()


async def exchange(url: str, request: bytes = SETUP, *, source: str | None = None) -> bytes:
    """Send one request to a relay's URL and return all it answers until it closes."""
    parts = urlsplit(url)
    local = None if source is None else (source, 0)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port, local_addr=local)
    writer.write(request)
    received = b""
    try:
        async with asyncio.timeout(5):
            while data := await reader.read(65536):
                received += data
    except ConnectionResetError:
        pass  # closed with the request unread
    finally:
        writer.close()
    return received


async def test_a_stream_plays_with_any_password(relay: RtspRelay, socket_enabled: None) -> None:
    doorbell = VirtualDoorbell(password=ODD_PASSWORD, video=TEST_VIDEO)
    await doorbell.start()
    try:
        path = doorbell.rtsp_url(credentials=False).partition(f":{doorbell.rtsp_port}")[2]
        typed = f"rtsp://admin:{ODD_TYPED}@127.0.0.1:{doorbell.rtsp_port}{path}"
        url = await relay.local_url(typed)
        assert url.startswith("rtsp://admin:a%5Cb%40c%3Ad%2Fe%25f%23g%20h%3F%C3%BC@127.0.0.1:")
        assert url.endswith(path)
        other = await relay.local_url(f"rtsp://127.0.0.1:{doorbell.rtsp_port}/other")
        assert urlsplit(other).port == urlsplit(url).port  # one listener per device endpoint
        picture = await asyncio.to_thread(first_picture, url, PYAV_OPTIONS)
        assert picture == (TEST_VIDEO.width, TEST_VIDEO.height)
    finally:
        await doorbell.stop()


async def test_a_redirect_reaches_no_other_host(
    relay: RtspRelay, redirecting_rtsp: RedirectingRtsp, caplog: pytest.LogCaptureFixture
) -> None:
    url = await relay.local_url(f"rtsp://admin:{PASSWORD}@127.0.0.1:{redirecting_rtsp.port}/x")
    for _ in range(2):
        with pytest.raises(av.FFmpegError):
            await asyncio.to_thread(first_picture, url, PYAV_OPTIONS)
    assert len(redirecting_rtsp.requests) == 2
    assert redirecting_rtsp.elsewhere == []
    warnings = [
        r for r in caplog.records if r.name == rtsp_relay.__name__ and r.levelno >= logging.WARNING
    ]
    assert len(warnings) == 1  # once, however often the client comes back
    assert "redirect" in warnings[0].getMessage()
    assert PASSWORD not in caplog.text


async def test_the_ingest_follows_no_redirect(
    relay: RtspRelay, redirecting_rtsp: RedirectingRtsp
) -> None:
    url = await relay.local_url(f"rtsp://admin:x@127.0.0.1:{redirecting_rtsp.port}/x")
    ingest = Ingest(url, on_packet=lambda packet: None, on_connection=lambda up: None)
    ingest.start()
    try:
        await wait_for(lambda: len(redirecting_rtsp.requests) >= 2)
    finally:
        await asyncio.to_thread(ingest.stop)
    assert redirecting_rtsp.elsewhere == []


@pytest.mark.parametrize(
    "answer",
    [
        OK_HEAD + b"Transport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n",
        OK_HEAD + b"Transport: RTP/AVP/TCP;unicast\r\n\r\n",
        OK_HEAD + b"X-Pad: " + b"a" * MAX_HEADER + b"\r\n\r\n",
        OK_HEAD + b"X-Pad: " + b"a" * MAX_HEADER,  # and never ends
        OK_HEAD + b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1),
        b"RTSP/1.0 301 Moved Permanently\r\nLocation: rtsp://127.0.0.2/\r\n\r\n",
    ],
    ids=["udp", "tcp-not-interleaved", "big-header", "endless-header", "big-body", "redirect"],
)
async def test_the_client_sees_nothing_of_what_is_refused(
    relay: RtspRelay, devices: Devices, answer: bytes
) -> None:
    assert await exchange(await relay.local_url(await devices.start(answer))) == b""


async def test_a_good_answer_passes_unchanged(relay: RtspRelay, devices: Devices) -> None:
    packet = b"$\x00\x00\x0c" + bytes(range(12))
    answer = OK_HEAD + INTERLEAVED + b"Content-Length: 4\r\n\r\nbody" + packet
    assert await exchange(await relay.local_url(await devices.start(answer))) == answer
    assert devices.requests == [SETUP]


@pytest.mark.parametrize(
    "data",
    [
        OK_HEAD + INTERLEAVED + b"Session: 1234\r\n\r\n",
        b'RTSP/1.0 401 Unauthorized\nCSeq: 2\nWWW-Authenticate: Digest realm="x"\n\n',
        b"RTSP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nv=0$\x01\x00\x08abcdefgh",
        b"\r\nSET_PARAMETER rtsp://127.0.0.1/ RTSP/1.0\r\nCSeq: 9\r\n\r\n",
        b"$\x00\x00\x00",  # an empty packet keeps FFmpeg in step
    ],
)
def test_the_reader_passes_messages_and_packets_in_any_pieces(data: bytes) -> None:
    whole = DeviceReader()
    assert whole.feed(data) == data
    bytewise = DeviceReader()
    assert b"".join(bytewise.feed(data[i : i + 1]) for i in range(len(data))) == data


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"RTSP/1.0 302 Found\r\nLocation: rtsp://127.0.0.2/\r\n\r\n", RedirectRefused),
        (b"rtsp/1.0  307 Temporary Redirect\r\n\r\n", RedirectRefused),
        (b"REDIRECT rtsp://127.0.0.1/ RTSP/1.0\r\nLocation: rtsp://x/\r\n\r\n", RedirectRefused),
        (b"RTSP/1.0 2OO OK\r\n\r\n", Refused),
        (b"RTSP/1.0\r\n\r\n", Refused),
        (b"RTSP/1.0 200 OK\r\nX: \0\r\n\r\n", Refused),
        (b"RTSP/1.0 200 OK\r\n\r$\x01\x02\x03\r\n\r\n", Refused),
        (b"RTSP/1.0 200 OK\r\n" + b"X: " + b"a" * 4000 + b"\r\n\r\n", Refused),
        (b"RTSP/1.0 200 OK\r\nContent-Length : 4\r\n\r\n", Refused),
        (b"RTSP/1.0 200 OK\r\nContent-Length: 4x\r\n\r\n", Refused),
        (b"RTSP/1.0 200 OK\r\nContent-Length: 4\r\nContent-Length: 0\r\n\r\n", Refused),
        (b"$\x00\x00\x04RTSP", Refused),
    ],
)
def test_the_reader_refuses(data: bytes, error: type[Refused]) -> None:
    with pytest.raises(error):
        DeviceReader().feed(data)


async def test_the_name_is_checked_at_every_connection(
    doorbell: VirtualDoorbell, resolver: dict[str, str]
) -> None:
    refused: list[EgressRefused] = []
    async with RtspRelay(refused.append) as relay:
        resolver["xn--fa-hia.lan"] = "198.51.100.1"  # IDNA 2008's name for faß.lan: unused
        resolver["fass.lan"] = "127.0.0.1"  # what Python's IDNA 2003 makes of faß.lan
        url = await relay.local_url(doorbell.rtsp_url().replace("127.0.0.1", "faß.lan"))
        assert urlsplit(url).hostname == "127.0.0.1"
        picture = await asyncio.to_thread(first_picture, url, PYAV_OPTIONS)
        assert picture == (TEST_VIDEO.width, TEST_VIDEO.height)
        resolver["fass.lan"] = "203.0.113.5"  # the name now points out of the house
        assert await exchange(url) == b""
    assert [(r.host, r.address) for r in refused] == [("faß.lan", "203.0.113.5")]


async def test_an_unreachable_device_closes_the_client(
    relay: RtspRelay, socket_enabled: None
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    assert await exchange(await relay.local_url(f"rtsp://127.0.0.1:{closed}/")) == b""
    assert await exchange(await relay.local_url("rtsp://no-such-doorbell.invalid/")) == b""


async def test_connections_are_bounded_and_from_127_0_0_1_only(
    relay: RtspRelay, devices: Devices
) -> None:
    url = await relay.local_url(await devices.start(b""))  # a device that never answers
    parts = urlsplit(url)
    held = [
        await asyncio.open_connection(parts.hostname, parts.port) for _ in range(MAX_CONNECTIONS)
    ]
    try:
        for _, writer in held:
            writer.write(SETUP)
        await wait_for(lambda: len(devices.requests) == MAX_CONNECTIONS)
        assert await exchange(url) == b""
        assert await exchange(url, source="127.0.0.2") == b""
        assert len(devices.requests) == MAX_CONNECTIONS
        await relay.close()  # ends what it relays
        for reader, _ in held:
            assert await reader.read() == b""
    finally:
        for _, writer in held:
            writer.close()


def _certificate(directory: Path) -> ssl.SSLContext:
    """Return a server context with a fresh self-signed certificate, as doorbells have."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "doorbell")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = directory / "doorbell.pem"
    pem.write_bytes(
        certificate.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    return context


@pytest.fixture
def tls(tmp_path: Path) -> ssl.SSLContext:
    """Return a TLS server context, made outside the event loop."""
    return _certificate(tmp_path)


async def test_rtsps_is_decrypted_by_the_relay(
    doorbell: VirtualDoorbell, resolver: dict[str, str], tls: ssl.SSLContext
) -> None:
    names: list[str | None] = []
    tls.sni_callback = lambda connection, name, context: names.append(name)

    async def terminate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        inner_reader, inner_writer = await asyncio.open_connection("127.0.0.1", doorbell.rtsp_port)
        await asyncio.gather(
            rtsp_relay._pass(reader, inner_writer), rtsp_relay._pass(inner_reader, writer)
        )

    server = await asyncio.start_server(terminate, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    resolver[NAME] = "127.0.0.1"
    try:
        async with RtspRelay() as relay:
            path = urlsplit(doorbell.rtsp_url())
            url = await relay.local_url(
                f"rtsps://admin:{PASSWORD}@{NAME}:{port}{path.path}?{path.query}"
            )
            assert url.startswith("rtsp://")
            picture = await asyncio.to_thread(first_picture, url, PYAV_OPTIONS)
        assert picture == (TEST_VIDEO.width, TEST_VIDEO.height)
        assert names == [NAME]
    finally:
        server.close()
        server.abort_clients()
        await server.wait_closed()


async def test_only_rtsp_is_relayed(relay: RtspRelay) -> None:
    with pytest.raises(ValueError, match="RTSP"):
        await relay.local_url("http://127.0.0.1/")
