"""The outbox: bytes from any thread reach the socket whole and in order, or wait their turn."""

from __future__ import annotations

import asyncio
import socket
import threading

from custom_components.local_doorbell.rtsp.outbox import Outbox


async def test_what_the_socket_cannot_take_waits_and_follows_in_order() -> None:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    outbox = Outbox(asyncio.get_running_loop(), ours.fileno())
    chunks = [bytes([index]) * 50_000 for index in range(20)]  # far more than the buffers

    def write() -> None:
        for chunk in chunks:
            outbox.write([chunk[:10], memoryview(chunk)[10:]])

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()
    assert outbox.queued > 0  # nobody read yet: most of it waits
    theirs.setblocking(False)
    loop = asyncio.get_running_loop()
    received = bytearray()
    while len(received) < len(chunks) * 50_000:
        received += await loop.sock_recv(theirs, 1 << 20)
    assert bytes(received) == b"".join(chunks)
    assert outbox.queued == 0
    outbox.close()
    outbox.write([b"after the end"])  # dropped, no error
    outbox.close()
    ours.close()
    theirs.close()


async def test_a_gone_peer_drops_the_bytes() -> None:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.close()
    outbox = Outbox(asyncio.get_running_loop(), ours.fileno())
    outbox.write([b"nobody reads this"])
    assert outbox.queued == 0
    outbox.close()
    ours.close()
