"""Channel windows: when a long-poll channel is open to its consumers.

Two ways to close a channel: the admin closes it by hand (with a reason, until
opened again), or a schedule policy says so — `set_policy("events", fn)` where
`fn(now)` returns the reason the channel is closed at `now`, or None. The jobs
scheduler wires its `events_exchange` / `contacts_exchange` windows (08:00–21:00)
in as policies. With neither, a channel is open. A closed channel loses nothing:
events keep accumulating and are delivered once it opens.

Manual closes live in memory: a restart opens every manually closed channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bridge.clock import Clock

EVENTS = "events"
CONTACTS = "contacts"
CHANNELS = (EVENTS, CONTACTS)

Policy = Callable[[datetime], str | None]
Listener = Callable[[str], None]


class UnknownChannel(KeyError):
    pass


@dataclass(frozen=True, slots=True)
class WindowState:
    channel: str
    open: bool
    reason: str = ""
    manual: bool = False  # closed by the admin, not by the schedule


class ChannelWindows:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._manual: dict[str, str] = {}
        self._policies: dict[str, Policy] = {}
        self._on_close: list[Listener] = []

    def set_policy(self, channel: str, policy: Policy | None) -> None:
        """The schedule for `channel` (None removes it)."""
        _known(channel)
        if policy is None:
            self._policies.pop(channel, None)
        else:
            self._policies[channel] = policy
            self._notify(channel)

    def close(self, channel: str, reason: str) -> None:
        _known(channel)
        self._manual[channel] = reason or "closed by the administrator"
        self._notify(channel)

    def open(self, channel: str) -> None:
        _known(channel)
        self._manual.pop(channel, None)

    def state(self, channel: str) -> WindowState:
        _known(channel)
        if channel in self._manual:
            return WindowState(channel, False, self._manual[channel], manual=True)
        policy = self._policies.get(channel)
        reason = policy(self._clock.now()) if policy else None
        if reason is not None:
            return WindowState(channel, False, reason)
        return WindowState(channel, True)

    def is_open(self, channel: str) -> str | None:
        """None while `channel` is open, else why it is closed (`ChannelGate`)."""
        state = self.state(channel)
        return None if state.open else state.reason or "closed"

    def on_close(self, listener: Listener) -> None:
        """Called with the channel name when it may have closed (wake its polls)."""
        self._on_close.append(listener)

    def _notify(self, channel: str) -> None:
        for listener in self._on_close:
            listener(channel)


def _known(channel: str) -> None:
    if channel not in CHANNELS:
        raise UnknownChannel(channel)
