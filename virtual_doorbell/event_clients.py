"""What every vendor's event service does alike: the stall fault and the client counters."""

from __future__ import annotations

import asyncio

from .state import DeviceState


class EventClients:
    """Counts a device's event clients and holds their streams while the device stalls."""

    def __init__(self, state: DeviceState) -> None:
        """Start flowing, with no clients counted."""
        self._state = state
        self._flowing = asyncio.Event()
        self._flowing.set()

    def stall(self, stalled: bool) -> None:
        """Stop or resume every stream; a stalled device keeps sockets open, sending nothing."""
        self._state.faults.stall_events = stalled
        if stalled:
            self._flowing.clear()
        else:
            self._flowing.set()

    def _count(self, clients: int, *, attached: bool = False) -> None:
        """Record how many clients there are now; `attached`: one more has come."""
        self._state.counters.event_clients = clients
        if attached:
            self._state.counters.event_clients_total += 1
