"""POSTing the metrics payload to `metrics.endpoint`, with retries."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

log = logging.getLogger(__name__)


class SendFailed(Exception):
    """The endpoint did not take the payload after every attempt."""

    def __init__(self, attempts: int, last: str) -> None:
        super().__init__(f"not delivered after {attempts} attempts: {last}")
        self.attempts = attempts


class _Retryable(Exception):
    pass


class _Refused(Exception):
    """The endpoint answered, and retrying would get the same answer."""


async def send(
    endpoint: str,
    payload: dict[str, Any],
    *,
    attempts: int,
    timeout_seconds: float,
    backoff_seconds: float = 1.0,
) -> int:
    """POST until a 2xx; returns the attempts used. 4xx other than 408/429 is final."""
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    used = 0
    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=backoff_seconds, max=60),
        retry=retry_if_exception_type(_Retryable),
    )
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            async for attempt in retrying:
                with attempt:
                    used += 1
                    await _post_once(session, endpoint, payload)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise SendFailed(used, str(last)) from None
        except _Refused as exc:
            raise SendFailed(used, f"{exc} (not retried)") from None
    return used


async def _post_once(
    session: aiohttp.ClientSession, endpoint: str, payload: dict[str, Any]
) -> None:
    try:
        async with session.post(endpoint, json=payload) as response:
            if response.status < 300:
                return
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _Retryable(f"{type(exc).__name__}") from None
    if status in (408, 429) or status >= 500:
        raise _Retryable(f"HTTP {status}")
    raise _Refused(f"HTTP {status}")
