"""Model profiles: what each doorbell family calls itself and sends on its event stream."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
import json


class Protocol(StrEnum):
    """The vendor interface a model speaks."""

    DAHUA = "dahua"
    DOORBIRD = "doorbird"
    ONVIF = "onvif"


class Family(StrEnum):
    """Firmware families whose event codes differ."""

    AD110 = "ad110"
    AD410 = "ad410"
    VTO = "vto"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelProfile:
    """One doorbell model as it presents itself on the wire."""

    name: str
    device_type: str
    has_person: bool
    protocol: Protocol = Protocol.DAHUA
    family: Family = Family.AD410  # Dahua event codes
    spaced_content_length: bool = False  # Dahua event-stream framing

    def press_parts(self, call_id: str) -> list[str]:
        """Return the event bodies a press produces, in order."""
        if self.family is Family.AD110:
            invite = {"Action": "Invite", "CallID": call_id, "CallSrcMask": "4"}
            return [
                _event("_DoTalkAction_", "Pulse", invite),
                _event("CallNoAnswered", "Start", {"CallID": call_id}),
            ]
        if self.family is Family.AD410:
            return [_event("CallNoAnswered", "Start", {"CallID": call_id})]
        return [
            _event("BackKeyLight", "Pulse", {"State": 1}),
            _event("PhoneCallDetect", "Start", {"CallID": call_id}),
        ]

    def motion_part(self, start: bool) -> str:
        """Return the event body of motion starting or stopping."""
        data = {"Id": [0], "RegionName": ["Region1"], "SmartMotionEnable": True}
        return _event("VideoMotion", "Start" if start else "Stop", data)

    def person_part(self, start: bool) -> str | None:
        """Return the event body of a person appearing or leaving, if the model reports it."""
        if not self.has_person:
            return None
        data = {"Object": {"ObjectType": "Human", "ObjectId": 1}, "RegionName": ["Region1"]}
        return _event("SmartMotionHuman", "Start" if start else "Stop", data)


def _event(code: str, action: str, data: Mapping[str, object]) -> str:
    """Format an event the way Dahua firmware does: JSON data spread over several lines."""
    body = json.dumps(data, indent=3, separators=(",", " : "))
    return f"Code={code};action={action};index=0;data={body}"


MODELS: dict[str, ModelProfile] = {
    profile.name: profile
    for profile in (
        ModelProfile(
            name="AD110",
            device_type="AD110",
            family=Family.AD110,
            has_person=False,
            spaced_content_length=False,
        ),
        ModelProfile(
            name="AD410",
            device_type="AD410",
            family=Family.AD410,
            has_person=True,
            spaced_content_length=False,
        ),
        ModelProfile(
            name="DB61i",
            device_type="DB61i",
            family=Family.AD410,
            has_person=True,
            spaced_content_length=False,
        ),
        ModelProfile(
            name="VTO",
            device_type="DH-VTO2202F-P-S2",
            family=Family.VTO,
            has_person=False,
            spaced_content_length=True,
        ),
        ModelProfile(
            name="D101",
            device_type="DoorBird D101",
            has_person=False,
            protocol=Protocol.DOORBIRD,
        ),
        ModelProfile(
            name="D1101UV",
            device_type="DoorBird D1101UV",
            has_person=False,
            protocol=Protocol.DOORBIRD,
        ),
        ModelProfile(
            name="D2101V",
            device_type="DoorBird D2101V",
            has_person=False,
            protocol=Protocol.DOORBIRD,
        ),
        ModelProfile(
            name="ReolinkDoorbell",
            device_type="Reolink Video Doorbell PoE",
            has_person=True,
            protocol=Protocol.ONVIF,
        ),
    )
}
