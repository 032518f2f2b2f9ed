"""Dahua event bodies: `Code=…;action=…;index=…;data={…}` parsed and mapped to doorbell events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
import json
import logging
import time
from typing import Any

from .base import DoorbellEvent, EventKind

_LOGGER = logging.getLogger(__name__)

HEARTBEAT = "Heartbeat"
RING_DEBOUNCE = 3.0

_OPENERS = {"{": "}", "[": "]"}


class EventSyntaxError(ValueError):
    """A part body that is not a well-formed event."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DahuaEvent:
    """One event as the firmware reports it."""

    code: str
    action: str = ""
    index: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


def split_fields(body: str) -> dict[str, str]:
    """Split `key=value` fields on the semicolons outside JSON; keys lose case and whitespace."""
    pieces: list[str] = []
    closers: list[str] = []
    in_string = escaped = False
    start = 0
    for position, char in enumerate(body):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in _OPENERS:
            closers.append(_OPENERS[char])
        elif closers and char == closers[-1]:
            closers.pop()
        elif char == ";" and not closers:
            pieces.append(body[start:position])
            start = position + 1
    # Whatever is left is the last field, even with its JSON cut short.
    pieces.append(body[start:])
    fields: dict[str, str] = {}
    for piece in pieces:
        key, sep, value = piece.partition("=")
        # AD110 firmware splits `index` and `=6` over two lines (python-amcrest#137).
        if sep and (key := "".join(key.split()).lower()):
            fields[key] = value.strip()
    return fields


def parse_event(body: str) -> DahuaEvent | None:
    """Return the event a part body carries, None for a heartbeat; raise EventSyntaxError."""
    if body.strip() == HEARTBEAT:
        return None
    fields = split_fields(body)
    code = fields.get("code")
    if not code:
        raise EventSyntaxError("no Code")
    data: object = {}
    if raw := fields.get("data"):
        try:
            data = json.loads(raw)
        except RecursionError as err:  # before any ValueError, for JSON nested too deep
            raise EventSyntaxError("data is nested too deep") from err
        except ValueError as err:
            raise EventSyntaxError("data is not JSON") from err
    if not isinstance(data, dict):
        raise EventSyntaxError("data is not a JSON object")
    return DahuaEvent(
        code=code, action=fields.get("action", ""), index=fields.get("index", ""), data=data
    )


def classify(event: DahuaEvent) -> tuple[EventKind, bool] | None:
    """Return the kind and activity an event means, or None when it means nothing to us."""
    code, data = event.code, event.data
    action = event.action.lower()
    if _is_press(code, action, data):
        return EventKind.RING, True
    if action not in ("start", "stop"):
        return None
    active = action == "start"
    if code in ("VideoMotion", "AlarmLocal") or (
        code == "ProfileAlarmTransmit" and data.get("SenseMethod") == "PassiveInfrared"
    ):
        return EventKind.MOTION, active
    if code == "SmartMotionHuman" or (code == "CrossRegionDetection" and _is_human(data)):
        return EventKind.PERSON, active
    return None


def _is_press(code: str, action: str, data: Mapping[str, Any]) -> bool:
    """Tell whether an event is a button press; a press is a pulse, so Stops never are."""
    if code == "_DoTalkAction_":
        return data.get("Action") == "Invite"
    if code in ("CallNoAnswered", "PhoneCallDetect"):
        return action == "start"
    if code == "Invite":
        return action != "stop"
    if code == "BackKeyLight":
        # State 1 and 2 are a call; 0 idle, 5 answered, 6 not answered, 8 unlock.
        return action in ("pulse", "start") and str(data.get("State")) in ("1", "2")
    return False


def _is_human(data: Mapping[str, Any]) -> bool:
    """Tell whether a detection's object is a person."""
    detected = data.get("Object")
    return isinstance(detected, dict) and detected.get("ObjectType") == "Human"


class EventMapper:
    """Turns part bodies into doorbell events, with one ring per press."""

    def __init__(
        self,
        *,
        ring_debounce: float = RING_DEBOUNCE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Start with no ring seen and no parse failure reported."""
        self._ring_debounce = ring_debounce
        self._clock = clock
        self._last_ring: float | None = None
        self._reported: set[str] = set()

    def map(self, body: str) -> DoorbellEvent | None:
        """Return the doorbell event a part body means, or None; never raise."""
        try:
            event = parse_event(body)
        except EventSyntaxError as err:
            self._report(err, body)
            return None
        if event is None:
            return None
        meaning = classify(event)
        if meaning is None:
            return None
        kind, active = meaning
        if kind is EventKind.RING and not self._new_ring():
            return None
        return DoorbellEvent(kind=kind, active=active, code=event.code, data=event.data)

    def _new_ring(self) -> bool:
        """Tell whether a ring starts a new press, not a second code of the same one."""
        # AD110 and VTO send two ring codes per press, back to back.
        now = self._clock()
        if self._last_ring is not None and now - self._last_ring < self._ring_debounce:
            return False
        self._last_ring = now
        return True

    def _report(self, err: EventSyntaxError, body: str) -> None:
        """Log a part we skip: a warning the first time for each reason, then at debug."""
        level = logging.DEBUG if str(err) in self._reported else logging.WARNING
        self._reported.add(str(err))
        _LOGGER.log(level, "Skipping an event the doorbell sent (%s): %.200r", err, body)
