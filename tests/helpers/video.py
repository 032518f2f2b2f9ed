"""Reading the virtual doorbell's RTSP streams with PyAV, as a viewer would."""

from __future__ import annotations

import av

# Open quickly: the SDP already tells codec, size and rate, so a short analysis is enough.
PYAV_OPTIONS = {"rtsp_transport": "tcp", "analyzeduration": "500000"}


def first_picture(url: str, options: dict[str, str] = PYAV_OPTIONS) -> tuple[int, int]:
    """Open an RTSP URL with PyAV and return the size of its first decoded picture (blocking)."""
    with av.open(url, options=options, timeout=10) as container:
        for frame in container.decode(video=0):
            return frame.width, frame.height
    raise AssertionError("no picture")
