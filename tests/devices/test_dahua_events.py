"""Dahua event bodies to doorbell events: every family's codes, the quirks and the debounce."""

from __future__ import annotations

import json
import logging

import pytest

from custom_components.local_doorbell.devices.base import EventKind
from custom_components.local_doorbell.devices.dahua_events import (
    DahuaEvent,
    EventMapper,
    EventSyntaxError,
    classify,
    parse_event,
    split_fields,
)
from virtual_doorbell.models import MODELS


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def body(code: str, action: str, data: object = None, *, index: str = "0") -> str:
    """Return an event body the way firmware formats it."""
    text = f"Code={code};action={action};index={index}"
    if data is not None:
        text += ";data=" + json.dumps(data, indent=3, separators=(",", " : "))
    return text


def test_split_fields_keeps_json_whole() -> None:
    fields = split_fields('Code=X;action=Start;data={"a" : "b;c", "d" : [ {"e" : ";"} ]}')
    assert fields == {
        "code": "X",
        "action": "Start",
        "data": '{"a" : "b;c", "d" : [ {"e" : ";"} ]}',
    }


def test_split_fields_with_escaped_quotes_and_stray_closers() -> None:
    fields = split_fields('Code=X;data={"a" : "q\\"};"};]trailing=1')
    assert fields["data"] == '{"a" : "q\\"};"}'
    assert fields["]trailing"] == "1"


def test_split_fields_ad110_index_on_its_own_line() -> None:
    # python-amcrest#137: `index` and `=6` arrived on separate lines.
    text = 'Code=_DoTalkAction_;action=Pulse;index\r\n=6;\r\ndata={\n "Action" : "Invite"\n}\r\n'
    fields = split_fields(text)
    assert fields["index"] == "6"
    event = parse_event(text)
    assert event == DahuaEvent(
        code="_DoTalkAction_", action="Pulse", index="6", data={"Action": "Invite"}
    )


def test_split_fields_ignores_fields_without_key_or_value() -> None:
    assert split_fields("Code=A;;novalue;=x; ;action=Stop") == {"code": "A", "action": "Stop"}


def test_parse_heartbeat() -> None:
    assert parse_event("Heartbeat") is None
    assert parse_event(" Heartbeat\r\n") is None


def test_parse_without_data() -> None:
    assert parse_event("Code=VideoMotion;action=Stop;index=0") == DahuaEvent(
        code="VideoMotion", action="Stop", index="0"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Not an event at all", "no Code"),
        ("Code=", "no Code"),
        ("action=Start;data={}", "no Code"),
        ("Code=VideoMotion;action=Start;data={bad", "data is not JSON"),
        ("Code=VideoMotion;action=Start;data=[1, 2]", "data is not a JSON object"),
        # RecursionError, which json raises before any ValueError.
        ("Code=VideoMotion;action=Start;data=" + "[" * 200_000, "data is nested too deep"),
    ],
    ids=lambda value: value[:50],
)
def test_parse_errors(text: str, reason: str) -> None:
    with pytest.raises(EventSyntaxError, match=reason):
        parse_event(text)


RING = (EventKind.RING, True)
MOTION_ON = (EventKind.MOTION, True)
MOTION_OFF = (EventKind.MOTION, False)
PERSON_ON = (EventKind.PERSON, True)
PERSON_OFF = (EventKind.PERSON, False)
PIR = {"SenseMethod": "PassiveInfrared"}
HUMAN = {"Object": {"ObjectType": "Human", "ObjectId": 1}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # AD110
        (body("_DoTalkAction_", "Pulse", {"Action": "Invite", "CallSrcMask": "4"}), RING),
        (body("_DoTalkAction_", "Pulse", {"Action": "Hangup"}), None),
        (body("_DoTalkAction_", "Pulse", {}), None),
        (body("ProfileAlarmTransmit", "Start", PIR), MOTION_ON),
        (body("ProfileAlarmTransmit", "Stop", PIR), MOTION_OFF),
        (body("ProfileAlarmTransmit", "Start", {"SenseMethod": "DoorMagnetism"}), None),
        # AD410, DB61i
        (body("CallNoAnswered", "Start", {"CallID": "1"}), RING),
        (body("CallNoAnswered", "Stop", {"CallID": "1"}), None),
        (body("VideoMotion", "Start", {"Id": [0]}), MOTION_ON),
        (body("VideoMotion", "Stop", {"Id": [0]}), MOTION_OFF),
        (body("VideoMotion", "Pulse"), None),
        (body("AlarmLocal", "Start"), MOTION_ON),
        (body("AlarmLocal", "Stop"), MOTION_OFF),
        (body("SmartMotionHuman", "Start", HUMAN), PERSON_ON),
        (body("SmartMotionHuman", "Stop", HUMAN), PERSON_OFF),
        (body("CrossRegionDetection", "Start", HUMAN), PERSON_ON),
        (body("CrossRegionDetection", "Stop", HUMAN), PERSON_OFF),
        (body("CrossRegionDetection", "Start", {"Object": {"ObjectType": "Vehicle"}}), None),
        (body("CrossRegionDetection", "Start", {"Object": "Human"}), None),
        # VTO
        (body("BackKeyLight", "Pulse", {"State": 1}), RING),
        (body("BackKeyLight", "Pulse", {"State": 2}), RING),
        (body("BackKeyLight", "Start", {"State": "1"}), RING),
        (body("BackKeyLight", "Pulse", {"State": 0}), None),
        (body("BackKeyLight", "Pulse", {"State": 5}), None),
        (body("BackKeyLight", "Pulse", {"State": 8}), None),
        (body("BackKeyLight", "Stop", {"State": 1}), None),
        (body("PhoneCallDetect", "Start", {"CallID": "1"}), RING),
        (body("PhoneCallDetect", "Stop"), None),
        (body("Invite", "Pulse"), RING),
        (body("Invite", "Start"), RING),
        (body("Invite", "Stop"), None),
        (body("DoorStatus", "Pulse", {"Status": "Open"}), None),
        # Anything else means nothing.
        (body("NTPAdjustTime", "Pulse", {"Address": "pool.ntp.org"}), None),
        (body("TimeChange", "Start"), None),
    ],
)
def test_classify(text: str, expected: tuple[EventKind, bool] | None) -> None:
    event = parse_event(text)
    assert event is not None
    assert classify(event) == expected


def test_action_case_does_not_matter() -> None:
    event = parse_event(body("VideoMotion", "START"))
    assert event is not None
    assert classify(event) == MOTION_ON


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_press_is_one_ring(model: str) -> None:
    profile = MODELS[model]
    mapper = EventMapper(clock=FakeClock())
    events = [mapper.map(text) for text in profile.press_parts("abc123")]
    rings = [event for event in events if event is not None]
    assert [(event.kind, event.active) for event in rings] == [RING]
    assert rings[0].code == profile.press_parts("abc123")[0].split(";")[0].removeprefix("Code=")


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_motion_and_person(model: str) -> None:
    profile = MODELS[model]
    mapper = EventMapper()
    start = mapper.map(profile.motion_part(True))
    stop = mapper.map(profile.motion_part(False))
    assert start is not None
    assert stop is not None
    assert (start.kind, start.active, stop.kind, stop.active) == (*MOTION_ON, *MOTION_OFF)
    assert start.data["RegionName"] == ["Region1"]
    for active in (True, False):
        part = profile.person_part(active)
        if not profile.has_person:
            assert part is None
            continue
        assert part is not None
        event = mapper.map(part)
        assert event is not None
        assert (event.kind, event.active) == (EventKind.PERSON, active)


def test_debounce() -> None:
    clock = FakeClock()
    mapper = EventMapper(clock=clock)
    invite = body("_DoTalkAction_", "Pulse", {"Action": "Invite"})
    no_answer = body("CallNoAnswered", "Start")
    assert mapper.map(invite) is not None
    clock.now += 0.2
    assert mapper.map(no_answer) is None
    clock.now += 2.7  # still within 3 s of the first ring
    assert mapper.map(invite) is None
    clock.now += 0.2
    second = mapper.map(no_answer)
    assert second is not None
    assert second.kind is EventKind.RING


def test_debounce_leaves_motion_alone() -> None:
    mapper = EventMapper(clock=FakeClock())
    assert mapper.map(body("CallNoAnswered", "Start")) is not None
    for _ in range(3):
        event = mapper.map(body("VideoMotion", "Start"))
        assert event is not None
        assert event.kind is EventKind.MOTION


def test_zero_debounce_gives_every_ring() -> None:
    mapper = EventMapper(ring_debounce=0)
    assert all(mapper.map(body("CallNoAnswered", "Start")) for _ in range(3))


def test_heartbeat_and_unknown_codes_give_nothing(caplog: pytest.LogCaptureFixture) -> None:
    mapper = EventMapper()
    with caplog.at_level(logging.DEBUG):
        assert mapper.map("Heartbeat") is None
        assert mapper.map(body("NTPAdjustTime", "Pulse")) is None
    assert not caplog.records


def test_bad_parts_are_skipped_and_reported_once_per_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    mapper = EventMapper()
    bad = ["Code=VideoMotion;action=Start;data={bad", "Not an event", "\ufffd\x00"]
    with caplog.at_level(logging.DEBUG):
        for text in bad * 3:
            assert mapper.map(text) is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    debugs = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(warnings) == 2  # "data is not JSON" and "no Code"
    assert len(debugs) == 7
    assert mapper.map(body("CallNoAnswered", "Start")) is not None
