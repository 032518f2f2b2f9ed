"""The pre-roll buffer: the last seconds of packets, always starting at a video keyframe."""

from __future__ import annotations

from collections import deque

from .packet import Packet

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class PrerollBuffer:
    """Holds whole groups of pictures (a keyframe and what follows it) covering `seconds`.

    The oldest group is dropped only once the next one starts at or before newest - seconds,
    so a clip made from `snapshot()` decodes from its first packet and reaches back at least
    `seconds` (when the stream has been up that long).
    """

    def __init__(self, seconds: float, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        """Describe the bounds; the buffer starts empty."""
        if seconds < 0 or max_bytes <= 0:
            raise ValueError("seconds must be ≥ 0 and max_bytes > 0")
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._groups: deque[list[Packet]] = deque()
        self._sizes: deque[int] = deque()
        self._bytes = 0

    def __len__(self) -> int:
        """Return the number of packets held."""
        return sum(len(group) for group in self._groups)

    @property
    def size(self) -> int:
        """Return the bytes of packet data held."""
        return self._bytes

    def append(self, packet: Packet) -> None:
        """Add a packet; anything before the first video keyframe is dropped."""
        if packet.stream == "video" and packet.keyframe:
            self._groups.append([packet])
            self._sizes.append(packet.size)
        elif self._groups:
            self._groups[-1].append(packet)
            self._sizes[-1] += packet.size
        else:
            return  # nothing to decode it from
        self._bytes += packet.size
        if packet.stream == "video":
            horizon = packet.seconds - self.seconds
            while len(self._groups) > 1 and self._groups[1][0].seconds <= horizon:
                self._drop_oldest()
        while len(self._groups) > 1 and self._bytes > self.max_bytes:
            self._drop_oldest()
        if self._bytes > self.max_bytes:
            self.clear()  # one group larger than the bound: wait for the next keyframe

    def snapshot(self) -> list[Packet]:
        """Return every packet held, from the first keyframe on."""
        return [packet for group in self._groups for packet in group]

    def latest_run(self) -> list[Packet]:
        """Return the newest picture after what it decodes from: its keyframe and those between."""
        if not self._groups:
            return []
        return [packet for packet in self._groups[-1] if packet.stream == "video"]

    def latest_keyframe(self) -> Packet | None:
        """Return the newest video keyframe held."""
        return self._groups[-1][0] if self._groups else None

    def clear(self) -> None:
        """Drop everything."""
        self._groups.clear()
        self._sizes.clear()
        self._bytes = 0

    def _drop_oldest(self) -> None:
        self._groups.popleft()
        self._bytes -= self._sizes.popleft()
