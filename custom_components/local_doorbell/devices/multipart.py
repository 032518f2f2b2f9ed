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
# What bytes.lstrip() takes off a body before its text, and what a blank line may hold.
_LEADING_SPACE = re.compile(rb"[ \t\n\r\x0b\x0c]*")
_SPACES = re.compile(rb"[ \t]*")
_CR, _LF = 0x0D, 0x0A


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


class _BlankLineScan:
    r"""Finds the blank line (`\r?\n[ \t]*\r?\n`) that ends a body's text.

    Each call goes on where the last one stopped: every byte is looked at once, however small
    the pieces in which the body arrives.
    """

    __slots__ = ("_cr", "_in_text", "_line", "position")

    def __init__(self) -> None:
        """Start before a body."""
        self.position = 0  # the next byte to look at
        self._in_text = False  # past the whitespace before the body's text
        self._line: int | None = None  # where a line break that may start a blank line is
        self._cr = False  # that blank line has had its closing carriage return

    def find(self, buffer: bytearray) -> int:
        """Return where a blank line ends the text in `buffer`, or -1 before one has arrived."""
        at, end = self.position, len(buffer)
        if not self._in_text:
            at = _run_end(_LEADING_SPACE, buffer, at)
            self._in_text = at < end
        while at < end:
            if self._line is None:
                newline = buffer.find(b"\n", at)
                if newline < 0:
                    at = end
                    break
                # The text has started, so the byte before the line break is the body's.
                self._line = newline - 1 if buffer[newline - 1] == _CR else newline
                self._cr = False
                at = newline + 1
                continue
            if not self._cr:
                at = _run_end(_SPACES, buffer, at)
                if at == end:
                    break
            if buffer[at] == _LF:
                return self._line
            if buffer[at] == _CR and not self._cr:
                self._cr = True
                at += 1
            else:
                self._line = None  # text again: look for the next line break from this byte
        self.position = at
        return -1


def _run_end(pattern: re.Pattern[bytes], buffer: bytearray, at: int) -> int:
    """Return where the run of bytes that `pattern` (which matches an empty run too) ends."""
    match = pattern.match(buffer, at)
    assert match is not None
    return match.end()


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
        self._blank = _BlankLineScan()

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
                self._blank = _BlankLineScan()
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
            blank = self._blank.find(self._buffer)
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
        # The length check first: int() refuses thousands of digits (ValueError).
        too_long = len(value) > len(str(self._max_buffer))
        if not value.isdigit() or too_long or int(value) > self._max_buffer:
            return None
        return int(value)

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
