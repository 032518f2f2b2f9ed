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


# The Dahua models: name, device type, event family, reports people, `Content-Length: N` spaced.
_DAHUA = (
    ("AD110", "AD110", Family.AD110, False, False),
    ("AD410", "AD410", Family.AD410, True, False),
    ("DB61i", "DB61i", Family.AD410, True, False),
    ("VTO", "DH-VTO2202F-P-S2", Family.VTO, False, True),
)
_DOORBIRD = ("D101", "D1101UV", "D2101V")  # they differ only by name

MODELS: dict[str, ModelProfile] = {
    profile.name: profile
    for profile in (
        *(
            ModelProfile(
                name=name,
                device_type=device_type,
                family=family,
                has_person=has_person,
                spaced_content_length=spaced,
            )
            for name, device_type, family, has_person, spaced in _DAHUA
        ),
        *(
            ModelProfile(
                name=name,
                device_type=f"DoorBird {name}",
                has_person=False,
                protocol=Protocol.DOORBIRD,
            )
            for name in _DOORBIRD
        ),
        ModelProfile(
            name="ReolinkDoorbell",
            device_type="Reolink Video Doorbell PoE",
            has_person=True,
            protocol=Protocol.ONVIF,
        ),
    )
}
