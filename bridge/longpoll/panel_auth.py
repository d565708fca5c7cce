"""PIN guessing protection for panel authorization (pure: no I/O, time injected).

1C shows a short PIN to the user, who types it into the panel; the bridge relays
extension and PIN to 1C. A 4-digit PIN falls to a few thousand guesses, so after
`max_failures` wrong PINs for one extension within `window_seconds` that extension
is refused without asking 1C until the oldest failure leaves the window.
"""

from __future__ import annotations

import math
from collections import deque

from bridge.clock import Clock


class PinGuard:
    def __init__(
        self, clock: Clock, *, max_failures: int, window_seconds: float
    ) -> None:
        self._clock = clock
        self._max = max_failures
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = {}

    def locked_for(self, extension: str) -> int | None:
        """Whole seconds until `extension` may try again, or None if it may now."""
        failures = self._recent(extension)
        if len(failures) < self._max:
            return None
        unlock_at = failures[-self._max] + self._window
        return max(1, math.ceil(unlock_at - self._clock.monotonic()))

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
