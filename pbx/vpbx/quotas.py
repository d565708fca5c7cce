"""Hourly per-method quotas as token buckets, so the bridge never exceeds them.

The PBX counts calls per hour and refuses the excess (manual §10.6.4). A bucket
holding the hourly figure and refilling continuously at figure/3600 per second
never lets more than the figure through in any hour-long window. Pure: time comes
from an injected monotonic clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pbx.vpbx.errors import VpbxQuotaExhausted

HOUR_SECONDS = 3600.0


class TokenBucket:
    def __init__(
        self, per_hour: int, monotonic: Callable[[], float], *, start_full: bool = True
    ) -> None:
        self.capacity = float(per_hour)
        self._rate = per_hour / HOUR_SECONDS
        self._now = monotonic
        self._tokens = self.capacity if start_full else 0.0
        self._at = monotonic()

    @property
    def available(self) -> float:
        self._refill()
        return self._tokens

    def take(self) -> float:
        """Take one token: 0.0 if taken, else the seconds until one is due."""
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        if self._rate == 0:
            return HOUR_SECONDS
        return (1.0 - self._tokens) / self._rate

    def _refill(self) -> None:
        now = self._now()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self._rate)
        self._at = now


class Quotas:
    """One bucket per API method; methods without a figure are not limited."""

    def __init__(
        self, per_hour: Mapping[str, int], monotonic: Callable[[], float]
    ) -> None:
        self._buckets = {m: TokenBucket(n, monotonic) for m, n in per_hour.items()}

    def take(self, method: str) -> None:
        bucket = self._buckets.get(method)
        if bucket is None:
            return
        wait = bucket.take()
        if wait > 0:
            raise VpbxQuotaExhausted(method, wait)

    def remaining(self) -> dict[str, int]:
        return {m: int(b.available) for m, b in self._buckets.items()}
