"""The ONVIF event service: PullPoint subscriptions that queue messages and expire."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web

from .event_clients import EventClients
from .onvif_soap import Operation, SoapFault, SoapRequest, seconds_until, xml_time
from .onvif_topics import CELL_MOTION, MOTION_ALARM, PEOPLE, VISITOR, Topic, topic_set
from .state import DeviceState

MESSAGE_QUEUE = 256  # messages a subscription keeps for a client that does not pull
DEFAULT_SUBSCRIPTION = 60.0  # seconds, when the client names no InitialTerminationTime
DEFAULT_PULL = 10.0  # seconds, when PullMessages names no Timeout
GARBAGE = b'<?xml version="1.0"?>\n<env:Envelope xmlns:env="oops"><env:Body><tev:Pull\x00'


def _unknown_subscription() -> SoapFault:
    return SoapFault("wsrf-r:ResourceUnknownFault", "No such subscription")


@dataclass(eq=False, slots=True)
class Subscription:
    """One PullPoint: queued messages, the wake-up of a waiting PullMessages, its expiry."""

    index: int
    expires: float = 0.0  # event-loop time
    messages: deque[str] = field(default_factory=lambda: deque(maxlen=MESSAGE_QUEUE))
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    garbage: bytes | None = None  # what to answer the next PullMessages with instead of XML
    timer: asyncio.TimerHandle | None = None

    def push(self, message: str) -> None:
        """Queue a message and wake a waiting PullMessages."""
        self.messages.append(message)
        self.wakeup.set()

    def close(self) -> None:
        """End the subscription: a waiting PullMessages answers with a fault."""
        self.closed = True
        if self.timer is not None:
            self.timer.cancel()
        self.wakeup.set()


class EventService(EventClients):
    """Topics' current states, and the subscriptions that are told when they change.

    A stalled device holds every PullMessages answer until it flows again.
    """

    def __init__(
        self,
        state: DeviceState,
        clock: Callable[[], datetime],
        address: Callable[[int], str],
    ) -> None:
        """Read the device clock from `clock`; `address(index)` is a subscription's URL."""
        super().__init__(state)
        self._clock = clock
        self._address = address
        self.renewals = 0
        self.time_zone = "Z"  # how CurrentTime and TerminationTime end
        self._subscriptions: dict[int, Subscription] = {}
        self._next = 0
        self._values: dict[Topic, bool] = {}

    @property
    def topics(self) -> tuple[Topic, ...]:
        """Return the topics this model raises."""
        people = (PEOPLE,) if self._state.model.has_person else ()
        return (VISITOR, MOTION_ALARM, CELL_MOTION, *people)

    def __iter__(self) -> Iterator[Subscription]:
        """Iterate over the live subscriptions."""
        return iter(list(self._subscriptions.values()))

    def operations(self) -> tuple[dict[str, Operation], dict[str, Operation]]:
        """Return the event service's operations and those at a subscription's address."""
        service: dict[str, Operation] = {
            "GetEventProperties": self._event_properties,
            "CreatePullPointSubscription": self._create,
        }
        subscription: dict[str, Operation] = {
            "PullMessages": self._pull_messages,
            "Renew": self._renew,
            "Unsubscribe": self._unsubscribe,
        }
        return service, subscription

    def value(self, topic: Topic) -> bool:
        """Return a property's current state."""
        return self._values.get(topic, False)

    def set(self, topic: Topic, value: bool) -> None:
        """Change a property and tell every subscription."""
        self._values[topic] = value
        message = topic.message("Changed", value, self._clock())
        for subscription in self:
            subscription.push(message)

    def garbage(self, answer: bytes = GARBAGE) -> None:
        """Answer the next PullMessages of every subscription with `answer`, not its messages."""
        for subscription in self:
            subscription.garbage = answer
            subscription.wakeup.set()

    def clear(self) -> None:
        """End every subscription, as a reboot does."""
        for subscription in self:
            self._remove(subscription)

    def _renew_for(self, subscription: Subscription, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        if subscription.timer is not None:
            subscription.timer.cancel()
        subscription.expires = loop.time() + seconds
        subscription.timer = loop.call_at(subscription.expires, self._remove, subscription)

    def _remove(self, subscription: Subscription) -> None:
        subscription.close()
        if self._subscriptions.pop(subscription.index, None) is not None:
            self._count(len(self._subscriptions))

    def _subscription(self, request: web.Request) -> Subscription:
        index = request.query.get("Idx", "")
        subscription = self._subscriptions.get(int(index)) if index.isdigit() else None
        if subscription is None:
            raise _unknown_subscription()
        return subscription

    def _times(self, prefix: str, expires: float, *, termination_first: bool = False) -> str:
        """Return CurrentTime and TerminationTime on the device's clock."""
        now = self._clock()
        remaining = expires - asyncio.get_running_loop().time()
        start = xml_time(now).removesuffix("Z") + self.time_zone
        current = f"<{prefix}:CurrentTime>{start}</{prefix}:CurrentTime>"
        end = xml_time(now + timedelta(seconds=remaining)).removesuffix("Z") + self.time_zone
        termination = f"<{prefix}:TerminationTime>{end}</{prefix}:TerminationTime>"
        return termination + current if termination_first else current + termination

    async def _event_properties(self, soap: SoapRequest, request: web.Request) -> str:
        return (
            "<tev:GetEventPropertiesResponse>"
            "<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml"
            "</tev:TopicNamespaceLocation><wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>"
            f"{topic_set(self.topics)}"
            "<wsnt:TopicExpressionDialect>http://www.onvif.org/ver10/tev/topicExpression/"
            "ConcreteSet</wsnt:TopicExpressionDialect>"
            "</tev:GetEventPropertiesResponse>"
        )

    async def _create(self, soap: SoapRequest, request: web.Request) -> str:
        """Start a subscription whose first messages are the current states, `Initialized`."""
        now = self._clock()
        seconds = seconds_until(soap.text("InitialTerminationTime"), now, DEFAULT_SUBSCRIPTION)
        self._next += 1
        subscription = Subscription(self._next)
        self._subscriptions[subscription.index] = subscription
        self._renew_for(subscription, seconds)
        self._count(len(self._subscriptions), attached=True)
        for topic in self.topics:
            subscription.push(topic.message("Initialized", self.value(topic), now))
        return (
            "<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
            f"<wsa5:Address>{self._address(subscription.index)}</wsa5:Address>"
            f"</tev:SubscriptionReference>{self._times('wsnt', subscription.expires)}"
            "</tev:CreatePullPointSubscriptionResponse>"
        )

    async def _pull_messages(self, soap: SoapRequest, request: web.Request) -> str | bytes:
        """Answer at the first message or after Timeout, at most MessageLimit messages."""
        subscription = self._subscription(request)
        timeout = seconds_until(soap.text("Timeout"), self._clock(), DEFAULT_PULL)
        limit = soap.text("MessageLimit") or "1"
        if not limit.isdigit():
            raise SoapFault("ter:InvalidArgVal", "MessageLimit")
        await self._flowing.wait()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not (
                    subscription.messages or subscription.garbage is not None or subscription.closed
                ):
                    subscription.wakeup.clear()
                    await subscription.wakeup.wait()
        await self._flowing.wait()  # a stall that began during the wait holds the answer
        if subscription.closed:
            raise _unknown_subscription()
        if subscription.garbage is not None:
            answer, subscription.garbage = subscription.garbage, None
            return answer
        count = min(int(limit), len(subscription.messages))
        messages = "".join(subscription.messages.popleft() for _ in range(count))
        times = self._times("tev", subscription.expires)
        return f"<tev:PullMessagesResponse>{times}{messages}</tev:PullMessagesResponse>"

    async def _renew(self, soap: SoapRequest, request: web.Request) -> str:
        subscription = self._subscription(request)
        seconds = seconds_until(soap.text("TerminationTime"), self._clock(), DEFAULT_SUBSCRIPTION)
        self._renew_for(subscription, seconds)
        self.renewals += 1
        times = self._times("wsnt", subscription.expires, termination_first=True)
        return f"<wsnt:RenewResponse>{times}</wsnt:RenewResponse>"

    async def _unsubscribe(self, soap: SoapRequest, request: web.Request) -> str:
        self._remove(self._subscription(request))
        return "<wsnt:UnsubscribeResponse/>"
