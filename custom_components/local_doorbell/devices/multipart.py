"""A tolerant, incremental parser for `multipart/x-mixed-replace` event streams."""

from __future__ import annotations

from enum import Enum, auto
import logging
import re

_LOGGER = logging.getLogger(__name__)

DEFAULT_BOUNDARY = "myboundary"
MAX_BUFFER = 64 * 1024

# Some firmware repeats its status line inside the stream (seen by Scrypted's Amcrest plugin).
_STATUS_LINE = re.compile(rb"HTTP/\d(?:\.\d)?\s+\d{3}\b")
# A line holding nothing but whitespace, with the line break that ends the text before it.
_BLANK_LINE = re.compile(rb"\r?\n[ \t]*\r?\n")


class _State(Enum):
    """Where the parser is within the stream."""

    SEEK = auto()  # looking for the next boundary line
    HEADERS = auto()  # reading a part's header lines
    BODY = auto()  # reading a part's body


def boundary_from_content_type(content_type: str | None, default: str = DEFAULT_BOUNDARY) -> str:
    """Return the boundary a Content-Type header names, or `default` (Dahua's)."""
    for param in (content_type or "").split(";")[1:]:
        name, sep, value = param.partition("=")
        if sep and name.strip().lower() == "boundary" and (value := value.strip().strip('"')):
            return value
    return default


class MultipartParser:
    """Turns the bytes of a multipart stream into part bodies, whatever the firmware does."""

    def __init__(
        self,
        boundary: str = DEFAULT_BOUNDARY,
        *,
        max_buffer: int = MAX_BUFFER,
        blank_line_ends_body: bool = False,
    ) -> None:
        """Prepare to parse a stream whose parts start with `--<boundary>`.

        With `blank_line_ends_body`, a part without Content-Length ends at the first blank
        line after its text (DoorBird), not only at the next boundary, which may come much later.
        """
        # DoorBird's parameter already carries the leading dashes; the lines never double them.
        self._marker = b"--" + boundary.removeprefix("--").encode()
        self._max_buffer = max_buffer
        self._blank_line_ends_body = blank_line_ends_body
        self._buffer = bytearray()
        self._state = _State.SEEK
        self._length: int | None = None
        self._after_status = False
        self._scanned = 0  # body bytes already searched for the boundary

    @property
    def buffered(self) -> int:
        """Return how many bytes wait for more input."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[str]:
        """Add bytes from the stream and return the bodies of the parts they complete."""
        self._buffer += data
        bodies: list[str] = []
        while self._step(bodies):
            pass
        if len(self._buffer) > self._max_buffer:
            # Whatever is pending is too long to be an event: resynchronise on the next boundary.
            _LOGGER.debug("Dropping %d bytes of an oversized part", len(self._buffer))
            self._resync()
        return bodies

    def _step(self, bodies: list[str]) -> bool:
        """Advance over one boundary, header line or body; tell whether to go on."""
        if self._state is _State.SEEK:
            return self._seek()
        if self._state is _State.HEADERS:
            return self._header_line()
        return self._body(bodies)

    def _seek(self) -> bool:
        """Skip to the line after the next boundary."""
        start = self._buffer.find(self._marker)
        if start < 0:
            self._keep_tail()
            return False
        del self._buffer[:start]
        end = self._buffer.find(b"\n", len(self._marker))
        if end < 0:
            return False
        del self._buffer[: end + 1]
        self._start_part()
        return True

    def _header_line(self) -> bool:
        """Consume one header line; a blank one starts the body."""
        end = self._buffer.find(b"\n")
        if end < 0:
            return False
        line = bytes(self._buffer[:end]).strip()
        del self._buffer[: end + 1]
        if not line:
            if self._after_status:
                # The blank line that ends a stray status line, not the part's headers.
                self._after_status = False
            else:
                self._state = _State.BODY
                self._scanned = 0
            return True
        self._after_status = False
        if line.startswith(self._marker):
            # A part without a blank line after its headers: start over with the new one.
            self._start_part()
        elif _STATUS_LINE.match(line):
            self._after_status = True
        else:
            name, sep, value = line.partition(b":")
            if sep and name.strip().lower() == b"content-length":
                self._length = self._parse_length(value)
        return True

    def _body(self, bodies: list[str]) -> bool:
        """Take the body once Content-Length bytes or the next boundary have arrived."""
        start = max(self._scanned - len(self._marker) + 1, 0)
        found = self._buffer.find(self._marker, start)
        length = self._length
        if length is None and self._blank_line_ends_body:
            blank = self._blank_line()
            if blank >= 0 and not 0 <= found < blank:
                found = blank
        if length is not None and len(self._buffer) >= length and not 0 <= found < length:
            end = length
        elif found >= 0:
            # No usable length, or one that runs into the next part: the boundary decides.
            end = found
        else:
            self._scanned = len(self._buffer)
            return False
        body = _clean(bytes(self._buffer[:end]))
        del self._buffer[:end]
        self._state = _State.SEEK
        if body:
            bodies.append(body)
        return True

    def _start_part(self) -> None:
        """Begin reading a new part's headers."""
        self._state = _State.HEADERS
        self._length = None
        self._after_status = False

    def _parse_length(self, value: bytes) -> int | None:
        """Return a usable Content-Length, or None for a missing, malformed or huge one."""
        value = value.strip()
        if not value.isdigit() or int(value) > self._max_buffer:
            return None
        return int(value)

    def _blank_line(self) -> int:
        """Return where a blank line ends the body's text, or -1 before one has arrived."""
        text = len(self._buffer) - len(self._buffer.lstrip())
        match = _BLANK_LINE.search(self._buffer, text)
        return -1 if match is None else match.start()

    def _keep_tail(self) -> None:
        """Drop bytes that cannot hold a boundary, keeping a tail that may start one."""
        keep = len(self._marker) - 1
        if len(self._buffer) > keep:
            del self._buffer[: len(self._buffer) - keep]

    def _resync(self) -> None:
        """Forget the pending part and look for the next boundary."""
        self._state = _State.SEEK
        self._length = None
        self._after_status = False
        self._keep_tail()


def _clean(body: bytes) -> str:
    """Decode a body without its surrounding whitespace and trailing stray status lines."""
    body = body.strip()
    while True:
        head, _, last = body.rpartition(b"\n")
        if not _STATUS_LINE.match(last.strip()):
            return body.decode("utf-8", errors="replace")
        body = head.strip()
