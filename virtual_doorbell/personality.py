"""What differs between vendors: the web API, the RTSP paths and how events reach clients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from aiohttp import web

DEEP_NESTING = 30_000  # levels of JSON nesting: past Python 3.13's limit, within 64 KiB


def deeply_nested() -> str:
    """Return a JSON array nested DEEP_NESTING levels deep."""
    return "[" * DEEP_NESTING + "]" * DEEP_NESTING


class Personality(Protocol):
    """One vendor's face of the virtual doorbell; the video and RTSP server are shared."""

    def add_routes(self, app: web.Application) -> None:
        """Add the vendor's HTTP API to the device's web application."""
        ...

    def rtsp_path(self, subtype: int) -> str:
        """Return the path (and query) of the main (0) or sub (1) stream."""
        ...

    def rtsp_source(self, path: str, query: Mapping[str, Sequence[str]]) -> int | None:
        """Return the stream an RTSP URL's path and query name, or None."""
        ...

    def press(self) -> None:
        """Tell every event client that the button was pressed."""
        ...

    def motion(self, start: bool) -> None:
        """Tell every event client that motion started or stopped."""
        ...

    def person(self, start: bool) -> bool:
        """Tell every event client about a person; return False if the model has no such event."""
        ...

    def drop_events(self) -> None:
        """Close every event connection or subscription."""
        ...

    def stall(self, stalled: bool) -> None:
        """Stop (or resume) sending anything, heartbeats included, on event connections."""
        ...

    def garbage(self) -> None:
        """Send malformed data on every event connection."""
        ...

    def deep_nesting(self, nested: bool) -> None:
        """Start (or stop) answering with data nested deeper than parsers go."""
        ...
