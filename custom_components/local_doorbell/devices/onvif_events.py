"""ONVIF notification messages mapped to doorbell events: Reolink's Visitor, motion and people."""

from __future__ import annotations

import logging
from typing import Any

from .base import DoorbellEvent, EventKind

_LOGGER = logging.getLogger(__name__)

# Topic (after the `tns1:` prefix) -> the event it carries and the data item holding its state.
TOPICS: dict[str, tuple[EventKind, str]] = {
    "RuleEngine/MyRuleDetector/Visitor": (EventKind.RING, "State"),
    "VideoSource/MotionAlarm": (EventKind.MOTION, "State"),
    "RuleEngine/CellMotionDetector/Motion": (EventKind.MOTION, "IsMotion"),
    "RuleEngine/MyRuleDetector/PeopleDetect": (EventKind.PERSON, "State"),
}
# The last levels of the topics whose presence in GetEventProperties means people detection.
PERSON_TOPICS = frozenset(
    topic.rpartition("/")[2] for topic, (kind, _) in TOPICS.items() if kind is EventKind.PERSON
)
INITIALIZED = "Initialized"


class MessageMapper:
    """Turns property messages into events.

    A ring is Visitor's rising edge in a `Changed` message: the `Initialized` states a new
    subscription starts with never ring. Motion (from either motion topic) and people are
    reported whenever their state differs from the last one reported.
    """

    def __init__(self) -> None:
        """Start with every property false."""
        self._states: dict[tuple[str, str], bool] = {}
        self._active: dict[EventKind, bool] = {}

    def map(self, message: Any) -> DoorbellEvent | None:
        """Return the event a `wsnt:NotificationMessage` means, if any."""
        try:
            topic = str(message.Topic._value_1).strip().rstrip("/.")
            payload = message.Message._value_1
            operation = payload.PropertyOperation
            sources = payload.Source.SimpleItem if payload.Source is not None else []
            source = ",".join(f"{item.Name}={item.Value}" for item in sources)
            items = {item.Name: item.Value for item in payload.Data.SimpleItem}
        except (AttributeError, TypeError) as err:
            _LOGGER.debug("Ignoring an ONVIF message without topic or data: %r", err)
            return None
        path = topic.partition(":")[2] or topic
        kind, name = TOPICS.get(path, (None, ""))
        if kind is None or name not in items:
            _LOGGER.debug("Ignoring ONVIF topic %s with %s", topic, items)
            return None
        value = str(items[name]).strip().lower() in ("true", "1")
        previous = self._states.get((path, source), False)
        self._states[(path, source)] = value
        data = {"source": source, "operation": operation}
        if kind is EventKind.RING:
            rising = value and not previous and operation != INITIALIZED
            return DoorbellEvent(kind=kind, code=topic, data=data) if rising else None
        active = any(
            state for (other, _), state in self._states.items() if TOPICS[other][0] is kind
        )
        if active == self._active.get(kind, False):
            return None
        self._active[kind] = active
        return DoorbellEvent(kind=kind, active=active, code=topic, data=data)
