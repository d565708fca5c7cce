"""What the cloud providers share: one aiohttp session, pacing, typed failures."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from tts_cache.providers.base import ProviderUnavailable

# Statuses a later attempt may get past.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
HTTP_UNAUTHORIZED = 401
HTTP_FORBIDDEN = 403
HTTP_OK = 200


class Pacer:
    """Spaces request starts to stay under a provider's requests-per-second quota."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)


class HttpProviderBase:
    """Owns the client session lazily (it must be made inside the running loop)."""

    name: str

    def __init__(self, timeout_seconds: float, max_concurrency: int) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(max_concurrency)

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def unavailable(self, exc: BaseException) -> ProviderUnavailable:
        # The exception text can hold the URL with a query; name only its type.
        kind = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
        return ProviderUnavailable(self.name, f"request failed: {kind}")
