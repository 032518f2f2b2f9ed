"""The ONVIF topics a Reolink doorbell raises, their messages and their GetEventProperties form."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
import itertools

from .onvif_soap import xml_time


@dataclass(frozen=True, slots=True)
class Topic:
    """A property event: its topic, the items naming its source, and its one data item."""

    path: str  # under tns1:
    data: str
    sources: tuple[tuple[str, str], ...] = (("Source", "000"),)

    def message(self, operation: str, value: bool, at: datetime) -> str:
        """Return the `wsnt:NotificationMessage` of this property having `value`."""
        sources = "".join(
            f'<tt:SimpleItem Name="{name}" Value="{item}"/>' for name, item in self.sources
        )
        state = "true" if value else "false"
        return (
            "<wsnt:NotificationMessage>"
            '<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">'
            f"tns1:{self.path}</wsnt:Topic>"
            f'<wsnt:Message><tt:Message UtcTime="{xml_time(at)}" PropertyOperation="{operation}">'
            f"<tt:Source>{sources}</tt:Source>"
            f'<tt:Data><tt:SimpleItem Name="{self.data}" Value="{state}"/></tt:Data>'
            "</tt:Message></wsnt:Message></wsnt:NotificationMessage>"
        )


VISITOR = Topic("RuleEngine/MyRuleDetector/Visitor", "State")
MOTION_ALARM = Topic("VideoSource/MotionAlarm", "State")
CELL_MOTION = Topic(
    "RuleEngine/CellMotionDetector/Motion",
    "IsMotion",
    (
        ("VideoSourceConfigurationToken", "000"),
        ("VideoAnalyticsConfigurationToken", "000"),
        ("Rule", "MyMotionDetectorRule"),
    ),
)
PEOPLE = Topic("RuleEngine/MyRuleDetector/PeopleDetect", "State")


def topic_set(topics: Iterable[Topic]) -> str:
    """Return the `wstop:TopicSet` of GetEventProperties: one nested element per topic level."""
    entries = sorted(((topic.path.split("/"), topic) for topic in topics), key=lambda e: e[0])
    return f"<wstop:TopicSet>{_topic_levels(entries, 'tns1:')}</wstop:TopicSet>"


def _topic_levels(entries: list[tuple[list[str], Topic]], prefix: str) -> str:
    """Render topics that share the levels above `entries`' paths."""
    parts = []
    for name, group in itertools.groupby(entries, key=lambda entry: entry[0][0]):
        members = list(group)
        tag = prefix + name
        if len(members) == 1 and len(members[0][0]) == 1:
            data = members[0][1].data
            parts.append(
                f'<{tag} wstop:topic="true"><tt:MessageDescription IsProperty="true"><tt:Data>'
                f'<tt:SimpleItemDescription Name="{data}" Type="xs:boolean"/>'
                f"</tt:Data></tt:MessageDescription></{tag}>"
            )
        else:
            inner = _topic_levels([(levels[1:], topic) for levels, topic in members], "")
            parts.append(f"<{tag}>{inner}</{tag}>")
    return "".join(parts)
