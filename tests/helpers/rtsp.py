"""RTSP clients for tests: PyAV decoding in a thread, and a raw client for odd requests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import hashlib
import socket
import struct
import threading
import time

import av

from custom_components.local_doorbell.rtsp.digest import parse_digest
from tests.helpers.video import PYAV_OPTIONS
from virtual_doorbell.video import read_frame_counter


@dataclass(frozen=True)
class Seen:
    counter: int
    pts: int | None  # FFmpeg leaves the first picture of an RTSP stream without one
    at: float


class Reader(threading.Thread):
    """Opens a stream with PyAV and decodes it until told to stop."""

    def __init__(
        self,
        url: str,
        options: dict[str, str] | None = None,
        timeout: float | tuple[float, float | None] = 10,
    ) -> None:
        super().__init__(name="pyav-reader", daemon=True)
        self.url = url
        self.options = options or PYAV_OPTIONS
        self.timeout = timeout
        self.error: av.FFmpegError | None = None  # what ended the stream, if anything
        self.frames: list[Seen] = []
        self.audio_samples = 0
        self.codecs: dict[str, str] = {}
        self.size = (0, 0)
        self.rate = 0.0
        self.audio_rate = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            self._read()
        except av.FFmpegError as err:  # the server dropping us ends the stream
            self.error = err

    def _read(self) -> None:
        with av.open(self.url, options=self.options, timeout=self.timeout) as container:
            self.codecs = {s.type: s.codec_context.name for s in container.streams}
            video = container.streams.video[0]
            self.size = (video.codec_context.width, video.codec_context.height)
            self.rate = float(video.average_rate or 0)
            if container.streams.audio:
                self.audio_rate = container.streams.audio[0].codec_context.sample_rate
            for packet in container.demux():
                if self.stopping.is_set():
                    return
                # PyAV 16's stubs type decode() too narrowly; widen it for the checks below.
                decoded: list[object] = [*packet.decode()]
                for frame in decoded:
                    if isinstance(frame, av.VideoFrame):
                        seen = Seen(read_frame_counter(frame), frame.pts, time.monotonic())
                        self.frames.append(seen)
                    elif isinstance(frame, av.AudioFrame):
                        self.audio_samples += frame.samples


# --- a raw client, for what FFmpeg never sends ----------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


class RawClient:
    """Speaks RTSP over one connection and answers digest challenges like FFmpeg."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        user: str = "",
        password: str = "",
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.user = user
        self.password = password
        self.cseq = 0
        self.challenge: str | None = None
        self.session = ""

    @classmethod
    async def connect(
        cls, port: int, user: str, password: str, *, receive_buffer: int = 0
    ) -> RawClient:
        sock = socket.socket()
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        return cls(*await asyncio.open_connection(sock=sock), user, password)

    def close(self) -> None:
        self.writer.close()

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    async def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, *, auth: bool = True
    ) -> Reply:
        for _ in range(2):
            self.cseq += 1
            lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}"]
            lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
            if self.session:
                lines.append(f"Session: {self.session}")
            if auth and self.challenge:
                lines.append(f"Authorization: {self.digest(method, url)}")
            self.send_raw(("\r\n".join(lines) + "\r\n\r\n").encode())
            reply = await self.reply()
            assert reply.headers.get("cseq") == str(self.cseq)
            if reply.status != 401 or not auth or self.challenge:
                break
            self.challenge = reply.headers["www-authenticate"]
        if "session" in reply.headers:
            self.session = reply.headers["session"].partition(";")[0]
        return reply

    def digest(self, method: str, uri: str) -> str:
        assert self.challenge is not None
        params = parse_digest(self.challenge)
        assert params is not None

        def md5(text: str) -> str:
            return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

        ha1 = md5(f"{self.user}:{params['realm']}:{self.password}")
        response = md5(f"{ha1}:{params['nonce']}:{md5(f'{method}:{uri}')}")
        return (
            f'Digest username="{self.user}", realm="{params["realm"]}", nonce="{params["nonce"]}", '
            f'uri="{uri}", response="{response}"'
        )

    async def reply(self) -> Reply:
        """Read the next response, skipping interleaved packets."""
        while (first := await self.reader.readexactly(1)) == b"$":
            await self.frame(first)
        head = first + await self.reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode().split("\r\n")
        headers = {}
        for line in filter(None, lines):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return Reply(int(status_line.split()[1]), headers, body)

    async def frame(self, first: bytes = b"") -> tuple[int, bytes]:
        """Read one interleaved packet: channel and data."""
        header = first + await self.reader.readexactly(4 - len(first))
        assert header[:1] == b"$"
        channel, length = struct.unpack("!BH", header[1:])
        return channel, await self.reader.readexactly(length)

    async def play(self, url: str) -> Reply:
        described = await self.request("DESCRIBE", url)
        assert described.status == 200
        base = described.headers["content-base"]
        transport = {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
        assert (await self.request("SETUP", base + "trackID=0", transport)).status == 200
        return await self.request("PLAY", base)


@dataclass(frozen=True)
class Rtp:
    marker: bool
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes

    @classmethod
    def parse(cls, data: bytes) -> Rtp:
        first, second, seq, timestamp, ssrc = struct.unpack("!BBHII", data[:12])
        assert first == 0x80
        return cls(bool(second & 0x80), second & 0x7F, seq, timestamp, ssrc, data[12:])

    @property
    def nal_type(self) -> int:
        kind = self.payload[0] & 0x1F
        return self.payload[1] & 0x1F if kind == 28 else kind  # FU-A carries the real type


async def access_units(client: RawClient, count: int) -> list[list[Rtp]]:
    units: list[list[Rtp]] = [[]]
    while len(units) <= count:
        channel, data = await client.frame()
        if channel % 2:
            continue  # RTCP
        assert channel == 0
        units[-1].append(Rtp.parse(data))
        if units[-1][-1].marker:
            units.append([])
    return units[:count]


def annexb(units: list[list[Rtp]]) -> bytes:
    """Return H.264 access units as Annex B, from RTP single NAL units and FU-A fragments."""
    stream = bytearray()
    for unit in units:
        for packet in unit:
            kind = packet.payload[0] & 0x1F
            if kind != 28:
                stream += b"\x00\x00\x00\x01" + packet.payload
            elif packet.payload[1] & 0x80:  # the first fragment: rebuild the NAL header
                header = (packet.payload[0] & 0xE0) | (packet.payload[1] & 0x1F)
                stream += b"\x00\x00\x00\x01" + bytes((header,)) + packet.payload[2:]
            else:
                stream += packet.payload[2:]
    return bytes(stream)


def decode_h264(data: bytes) -> list[av.VideoFrame]:
    """Decode an Annex-B H.264 stream to pictures."""
    decoder = av.CodecContext.create("h264", "r")
    frames = []
    for packet in [*decoder.parse(data), *decoder.parse(None), None]:  # flush both
        frames += decoder.decode(packet)
    return [frame for frame in frames if isinstance(frame, av.VideoFrame)]
