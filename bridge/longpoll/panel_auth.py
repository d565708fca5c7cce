"""PIN guessing protection for panel authorization (pure: no I/O, time injected).

1C shows a short PIN to the user, who types it into the panel; the bridge relays
extension and PIN to 1C. A 4-digit PIN falls to a few thousand guesses, so after
`max_failures` wrong PINs for one extension within `window_seconds` that extension
is refused without asking 1C until the oldest failure leaves the window.

Attempts still waiting for 1C count against the limit too: otherwise a guesser
firing many attempts at once would get them all relayed before the first wrong
answer came back.
"""

from __future__ import annotations

import math
from collections import deque

from bridge.clock import Clock

# Retry-After when only attempts in flight block: they end within a few seconds.
IN_FLIGHT_RETRY_SECONDS = 1


class PinGuard:
    def __init__(
        self, clock: Clock, *, max_failures: int, window_seconds: float
    ) -> None:
        self._clock = clock
        self._max = max_failures
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}

    def admit(self, extension: str) -> int | None:
        """Start an attempt, or refuse: whole seconds until `extension` may try."""
        failures = self._recent(extension)
        in_flight = self._in_flight.get(extension, 0)
        if len(failures) >= self._max:
            unlock_at = failures[-self._max] + self._window
            return max(1, math.ceil(unlock_at - self._clock.monotonic()))
        if len(failures) + in_flight >= self._max:
            return IN_FLIGHT_RETRY_SECONDS
        self._in_flight[extension] = in_flight + 1
        return None

    def done(self, extension: str) -> None:
        """An admitted attempt has its answer (or gave up); call once per admit."""
        left = self._in_flight.get(extension, 0) - 1
        if left > 0:
            self._in_flight[extension] = left
        else:
            self._in_flight.pop(extension, None)

    def failed(self, extension: str) -> bool:
        """Record a wrong PIN; True when this failure locks the extension out."""
        failures = self._recent(extension)
        failures.append(self._clock.monotonic())
        self._failures[extension] = failures
        return len(failures) == self._max

    def succeeded(self, extension: str) -> None:
        self._failures.pop(extension, None)

    def _recent(self, extension: str) -> deque[float]:
        failures = self._failures.get(extension, deque())
        horizon = self._clock.monotonic() - self._window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            # Forget extensions with nothing recent, so guessing many extensions
            # cannot grow this table beyond one window's worth of failures.
            self._failures.pop(extension, None)
        return failures
