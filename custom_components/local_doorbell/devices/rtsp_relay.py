"""A loopback RTSP relay: FFmpeg reaches a device only through it, and only its checked address.

FFmpeg resolves names itself and follows an RTSP redirect to any host; no option forbids
that. So FFmpeg (ours, and Home Assistant's stream) is handed an RTSP URL of `127.0.0.1:<port>`
only. For every connection the relay resolves and checks the device's name again, connects
to the checked address (doing the TLS of `rtsps` itself) and reads what the device sends as
FFmpeg will: a redirect, a transport other than interleaved TCP or an oversize message ends
both sides before the client sees it. What the client sends passes unchanged: the request
URIs name the relay, which devices ignore (they serve by path), and digest answers cover
the URI as sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from functools import partial
import logging
import re
import ssl
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlsplit, urlunsplit

from ..privacy.egress import EgressRefused, UnresolvableHost, check_host
from .base import host_and_port

_LOGGER = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
STREAM_SCHEMES = ("rtsp", "rtsps")
MAX_CONNECTIONS = 8  # per device: the recorder, live view, a probe, and some to spare
MAX_HEADER = 16 * 1024  # a message's start line and headers
MAX_LINE = 4000  # FFmpeg cuts lines at 4095 characters: a longer one would read differently
MAX_BODY = 64 * 1024  # an SDP is a few KiB, and FFmpeg allocates what Content-Length says
CONNECT_TIMEOUT = 10.0
_CHUNK = 64 * 1024
_MIN_PACKET = 8  # FFmpeg reads a shorter interleaved packet's payload as RTSP text
# Where a message's headers end, as FFmpeg reads lines: up to "\n", every "\r" ignored.
_HEADER_END = re.compile(rb"(?:\A|\n)\r*\n")
_BLANKS = re.compile(r"[ \t]+")
_LENGTH = re.compile(r"[ \t]*\d{1,9}[ \t]*")


class Refused(Exception):
    """The device sent what the relay does not pass on."""


class RedirectRefused(Refused):
    """The device redirected the client."""


class DeviceReader:
    """Follows what a device sends: RTSP messages, checked, and interleaved packets.

    Bodies and packets pass unread; only a message's start line and headers are held until
    they are complete, so the client never sees part of a message the relay refuses.
    """

    def __init__(self) -> None:
        """Start at the beginning of a message or packet."""
        self._pending = bytearray()
        self._through = 0  # bytes of the current body or packet still to pass unread

    def feed(self, data: bytes) -> bytes:
        """Return what may be passed on of the device's next bytes; raise Refused."""
        out = bytearray()
        if self._through:
            passed = min(self._through, len(data))
            out += data[:passed]
            self._through -= passed
            data = data[passed:]
        self._pending += data
        while self._pending and not self._through:
            size = self._next_size()
            if size is None:
                break
            taken = min(size, len(self._pending))
            out += self._pending[:taken]
            del self._pending[:taken]
            self._through = size - taken
        return bytes(out)

    def _next_size(self) -> int | None:
        """Return the size of the message or packet that starts the pending bytes, if known."""
        pending = self._pending
        if pending[0] == 0x24:  # "$": an interleaved packet, channel and length first
            if len(pending) < 4:
                return None
            length = int.from_bytes(pending[2:4])
            if 0 < length < _MIN_PACKET:
                raise Refused(f"an interleaved packet of {length} bytes")
            return 4 + length
        end = _HEADER_END.search(pending, 0, MAX_HEADER)
        if end is None:
            if len(pending) >= MAX_HEADER:
                raise Refused(f"a header over {MAX_HEADER} bytes")
            return None
        return end.end() + body_length(bytes(pending[: end.end()]))


def body_length(head: bytes) -> int:
    """Check a message's start line and headers as FFmpeg reads them; return its body's length."""
    if b"\0" in head:
        raise Refused("a NUL byte in a header")  # FFmpeg's lines would end there
    lines = head.replace(b"\r", b"").decode("latin-1").split("\n")[:-2]
    if not lines:
        return 0  # an empty line: FFmpeg reads an empty message
    if any(len(line) > MAX_LINE or line.startswith("$") for line in lines):
        raise Refused("a header line FFmpeg would read differently")
    words = _BLANKS.split(lines[0].strip(" \t"))
    if words[0].upper().startswith("RTSP/"):
        if len(words) < 2 or not re.fullmatch(r"\d{3}", words[1]):
            raise Refused("a malformed status line")
        if words[1].startswith("3"):
            raise RedirectRefused(f"status {words[1]}")
    elif words[0].upper() == "REDIRECT":
        raise RedirectRefused("a REDIRECT request")
    lengths = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        known = name.strip(" \t").lower()
        if known == "content-length":
            # FFmpeg takes the name only as written here, and the number's leading digits.
            if name.lower() != known or not _LENGTH.fullmatch(value):
                raise Refused("a malformed Content-Length")
            lengths.append(int(value))
        elif known == "transport" and not _interleaved(value):
            raise Refused("a transport other than interleaved TCP")
    if len(lengths) > 1:
        raise Refused("more than one Content-Length")
    length = lengths[0] if lengths else 0
    if length > MAX_BODY:
        raise Refused(f"a body of {length} bytes")
    return length


def _interleaved(transport: str) -> bool:
    """Tell whether every transport a SETUP answer names is RTP interleaved in the connection."""
    for spec in transport.split(","):
        protocol, *parameters = (part.strip(" \t").lower() for part in spec.split(";"))
        if not protocol.endswith("/tcp") or not any(
            parameter.startswith("interleaved=") for parameter in parameters
        ):
            return False
    return True


def _credentials(netloc: str) -> str:
    """Return a URL's user name and password percent-encoded throughout, with the "@"."""
    userinfo, at, _ = netloc.rpartition("@")
    if not at:
        return ""
    # FFmpeg decodes them; "/", "#", "?" or "\\" left raw would end the host part early.
    parts = [quote_from_bytes(unquote_to_bytes(part), safe="") for part in userinfo.split(":", 1)]
    return ":".join(parts) + "@"


class RtspRelay:
    """One device's relay: a loopback listener for each RTSP endpoint it streams from."""

    def __init__(self, on_refused: Callable[[EgressRefused], None] | None = None) -> None:
        """Call `on_refused` (in the event loop) when the device's name resolves outside."""
        self._on_refused = on_refused
        self._ports: dict[tuple[str, int, bool], int] = {}
        self._servers: list[asyncio.Server] = []
        self._connections: set[asyncio.Task[None]] = set()
        self._tls: ssl.SSLContext | None = None
        self._warned = False
        self._closing = False

    async def __aenter__(self) -> RtspRelay:
        """Return the relay; it listens from the first `local_url()` on."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the relay."""
        await self.close()

    async def local_url(self, url: str) -> str:
        """Return the loopback RTSP URL that reaches a device's RTSP or RTSPS `url`."""
        parts = urlsplit(url)
        if parts.scheme not in STREAM_SCHEMES:
            raise ValueError("not an RTSP URL")
        host, port = host_and_port(url)
        tls = parts.scheme == "rtsps"
        endpoint = (host, port, tls)
        if (local := self._ports.get(endpoint)) is None:
            server = await asyncio.start_server(partial(self._serve, *endpoint), LOOPBACK, 0)
            self._servers.append(server)
            local = self._ports[endpoint] = server.sockets[0].getsockname()[1]
        netloc = f"{_credentials(parts.netloc)}{LOOPBACK}:{local}"
        return urlunsplit(("rtsp", netloc, parts.path, parts.query, ""))

    async def close(self) -> None:
        """Stop listening and end every relayed connection."""
        self._closing = True
        for server in self._servers:
            server.close()
        for task in self._connections:
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        for server in self._servers:
            server.abort_clients()  # those accepted but not yet served
            await server.wait_closed()
        self._servers.clear()
        self._ports.clear()

    async def _serve(
        self,
        host: str,
        port: int,
        tls: bool,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
    ) -> None:
        """Relay one client's connection to the device, checked anew."""
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            peer = client_writer.get_extra_info("peername")
            if self._closing:
                return
            if len(self._connections) > MAX_CONNECTIONS or peer[0] != LOOPBACK:
                _LOGGER.debug("Relay to %s turned a client away", host)
                return
            device = await self._connect(host, port, tls)
            if device is not None:
                await self._relay(host, client_reader, client_writer, *device)
        finally:
            client_writer.close()
            self._connections.discard(task)

    async def _connect(
        self, host: str, port: int, tls: bool
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """Check the device's name and connect to the address it resolved to, or return None."""
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                address = (await check_host(host, port))[0]
                return await asyncio.open_connection(
                    address,
                    port,
                    limit=_CHUNK,
                    ssl=self._tls_context() if tls else None,
                    server_hostname=host if tls else None,
                )
        except EgressRefused as err:
            self._warn("Refused to connect to %s: %s", host, err)
            if self._on_refused is not None:
                self._on_refused(err)
        except (UnresolvableHost, OSError, TimeoutError) as err:
            _LOGGER.debug("Relay could not reach %s: %r", host, err)
        return None

    async def _relay(
        self,
        host: str,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        device_reader: asyncio.StreamReader,
        device_writer: asyncio.StreamWriter,
    ) -> None:
        """Pass bytes both ways until either side ends; check what the device sends."""
        requests = asyncio.create_task(_pass(client_reader, device_writer))
        reader = DeviceReader()
        try:
            while data := await device_reader.read(_CHUNK):
                client_writer.write(reader.feed(data))
                await client_writer.drain()
        except Refused as err:
            what = "an RTSP redirect" if isinstance(err, RedirectRefused) else "what it sent"
            self._warn("Refused %s from %s (%s); connection closed", what, host, err)
        except OSError as err:
            _LOGGER.debug("Relay to %s broke: %r", host, err)
        finally:
            requests.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await requests
            device_writer.close()

    def _warn(self, message: str, *args: object) -> None:
        """Log the relay's first refusal as a warning, later ones (clients retry) at debug."""
        _LOGGER.log(logging.DEBUG if self._warned else logging.WARNING, message, *args)
        self._warned = True

    def _tls_context(self) -> ssl.SSLContext:
        """Return the TLS settings towards the device: FFmpeg's default, no verification.

        Doorbells present self-signed certificates; the name sent (SNI) is the configured one.
        """
        if self._tls is None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            self._tls = context
        return self._tls


async def _pass(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Pass the client's bytes to the device until the client ends; then end the device side."""
    try:
        with contextlib.suppress(OSError):
            while data := await reader.read(_CHUNK):
                writer.write(data)
                await writer.drain()
    finally:
        writer.close()
