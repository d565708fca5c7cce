"""The contact-data channel as features see it: ask 1C, get an outcome in time.

Wraps the broker with the channel window (a closed window answers at once with the
fallback instead of letting askers wait for a consumer that will not come), metrics,
and the health of the link to 1C.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bridge.clock import Clock
from bridge.health import ComponentStatus, State
from bridge.longpoll.broker import (
    Answered,
    ContactBroker,
    Fallback,
    FallbackReason,
    Outcome,
    Refused,
    RequestKind,
)
from bridge.longpoll.contacts_config import ContactChannelConfig

log = logging.getLogger(__name__)
CHANNEL = "contacts"
HEALTH_COMPONENT = "contact_channel"


class ChannelGate(Protocol):
    """Channel windows (manual close, schedule): why `channel` is closed, or None."""

    def is_open(self, channel: str) -> str | None: ...


class AlwaysOpen:
    def is_open(self, channel: str) -> str | None:
        return None


class ContactAsker(Protocol):
    """What other features use to ask 1C over the contact channel."""

    async def ask(
        self,
        kind: RequestKind,
        payload: dict[str, Any],
        deadline_seconds: float | None = None,
    ) -> Outcome: ...


class ContactChannel:
    def __init__(
        self,
        config: ContactChannelConfig,
        clock: Clock,
        registry: CollectorRegistry,
        gate: ChannelGate | None = None,
    ) -> None:
        self.config = config
        self.gate = gate or AlwaysOpen()
        self.broker = ContactBroker(
            clock,
            max_pending=config.max_pending,
            remember_finished=config.remember_finished,
        )
        self._outcomes = Counter(
            "telebridge_contact_requests",
            "Contact-channel requests by kind and outcome",
            ["kind", "outcome"],
            registry=registry,
        )
        self._latency = Histogram(
            "telebridge_contact_request_seconds",
            "From asking 1C to its answer (answered requests only)",
            ["kind"],
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
            registry=registry,
        )
        self._clock = clock
        self._started = clock.monotonic()
        pending = Gauge(
            "telebridge_contact_requests_pending",
            "Contact-channel requests waiting for 1C",
            registry=registry,
        )
        pending.set_function(lambda: self.broker.pending)
        parked = Gauge(
            "telebridge_contact_polls_parked",
            "1C polls held open on the contact channel",
            registry=registry,
        )
        parked.set_function(lambda: self.broker.parked)

    def closed_reason(self) -> str | None:
        return self.gate.is_open(CHANNEL)

    async def ask(
        self,
        kind: RequestKind,
        payload: dict[str, Any],
        deadline_seconds: float | None = None,
    ) -> Outcome:
        deadline = deadline_seconds or self.config.deadline_seconds
        started = self._clock.monotonic()
        outcome = self._refusal() or await self.broker.ask(kind, payload, deadline)
        self._record(kind, outcome, self._clock.monotonic() - started)
        return outcome

    def _refusal(self) -> Fallback | None:
        """The fallback to give at once, when waiting for 1C would be pointless."""
        reason = self.closed_reason()
        if reason is not None:
            return Fallback(
                FallbackReason.CLOSED, f"contact channel is closed: {reason}"
            )
        absent = self._seconds_without_consumer()
        if absent > self.config.absent_after_seconds:
            return Fallback(
                FallbackReason.NO_CONSUMER,
                f"no 1C consumer has polled the contact channel for {absent:.0f} s",
            )
        return None

    def _seconds_without_consumer(self) -> float:
        since = self.broker.seconds_since_poll()
        # Right after start 1C has not reconnected yet: count from the start.
        return self._clock.monotonic() - self._started if since is None else since

    async def status(self) -> ComponentStatus:
        """Degraded, saying why, when no 1C consumer polls: the PBX then gets
        fallbacks and panels cannot authorize. Not "down": the rest of the service
        (events, journal, PBX adapters) still works, so readiness must not drop.
        """
        data: dict[str, Any] = {
            "parked_polls": self.broker.parked,
            "pending_requests": self.broker.pending,
        }
        reason = self.closed_reason()
        if reason is not None:
            return ComponentStatus(
                State.DEGRADED, f"contact channel closed: {reason}", data
            )
        since = self.broker.seconds_since_poll()
        if since is None:
            return ComponentStatus(
                State.DEGRADED, _NO_CONSUMER + " (none has since start)", data
            )
        data["seconds_since_poll"] = round(since, 1)
        if since > self.config.consumer_stale_seconds:
            return ComponentStatus(
                State.DEGRADED, f"{_NO_CONSUMER} (last poll {since:.0f} s ago)", data
            )
        return ComponentStatus(State.OK, data=data)

    def _record(self, kind: RequestKind, outcome: Outcome, elapsed: float) -> None:
        if isinstance(outcome, Answered):
            name = "answered"
            self._latency.labels(kind.value).observe(elapsed)
        elif isinstance(outcome, Refused):
            name = "refused"
        else:
            name = f"fallback_{outcome.reason.value}"
            log.info("contact request %s fell back: %s", kind.value, outcome.detail)
        self._outcomes.labels(kind.value, name).inc()


_NO_CONSUMER = (
    "no 1C consumer polls the contact channel: the PBX gets fallback answers "
    "and panels cannot authorize"
)
