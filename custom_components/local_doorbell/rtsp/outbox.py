"""What a server sends one client, writable from any thread, in order.

A restream sends media from the thread that reads the device: a hop to the server's event
loop per batch (a thread wake-up, the loop's turn, the GIL changing hands) costs several
times the write itself. Bytes go straight to the socket while it takes them; what it does
not take waits here, in order, and the loop sends it once the socket is writable again.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
import os
import threading

_IOV_MAX = 512  # buffers per writev, under every platform's limit

type Frame = bytes | memoryview


class Outbox:
    """The outgoing bytes of one socket; `close()` on the loop's thread, the rest anywhere."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fileno: int) -> None:
        """Write to a duplicate of the socket's descriptor, which only `close()` closes.

        So no write can reach a descriptor number the loop closed and reused meanwhile.
        """
        self._loop = loop
        self._fd = os.dup(fileno)
        self._lock = threading.Lock()
        self._waiting: deque[Frame] = deque()  # what the socket did not take yet
        self._watched = False  # the loop waits for the socket to be writable
        self._closed = False
        self.queued = 0  # bytes waiting

    def write(self, frames: Sequence[Frame]) -> None:
        """Send bytes after whatever waits, from any thread; a broken socket drops them.

        The reader sees a broken connection end and closes it.
        """
        with self._lock:
            if self._closed:
                return
            if not self._waiting:
                frames = self._send(frames)
                if not frames:
                    return
                if not self._watched:
                    self._watched = True
                    self._loop.call_soon_threadsafe(self._watch)
            self._waiting.extend(frames)
            self.queued += sum(map(len, frames))

    def close(self) -> None:
        """Drop what waits and close the descriptor (on the loop's thread)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._waiting.clear()
            self.queued = 0
            self._loop.remove_writer(self._fd)
            os.close(self._fd)

    def _watch(self) -> None:
        with self._lock:
            if not self._closed:
                self._loop.add_writer(self._fd, self._writable)

    def _writable(self) -> None:
        """Send what waits now that the socket takes more."""
        with self._lock:
            rest = self._send(list(self._waiting))
            self._waiting = deque(rest)
            self.queued = sum(map(len, rest))
            if not rest:
                self._watched = False
                self._loop.remove_writer(self._fd)

    def _send(self, frames: Sequence[Frame]) -> Sequence[Frame]:
        """Send what the socket takes now; return the rest (under the lock)."""
        while frames:
            chunk = frames[:_IOV_MAX]
            try:
                sent = os.writev(self._fd, chunk)
            except (BlockingIOError, InterruptedError):
                return frames
            except OSError:
                return []  # gone: the reader will see it
            for index, frame in enumerate(chunk):
                size = len(frame)
                if sent < size:
                    return [memoryview(frame)[sent:], *frames[index + 1 :]]
                sent -= size
            frames = frames[_IOV_MAX:]
        return frames
