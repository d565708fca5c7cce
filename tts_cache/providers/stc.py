"""Speech Technology Center (ЦРТ, SpeechPro) cloud: session auth, 8 kHz voices.

A session id is made once from the configured username/domain/password and reused
on every request. A 401 drops it and re-authenticates exactly once per request: the
incumbent never counted its failures and recursed forever. The voice list is
fetched once and kept `voices_ttl_seconds`, never per call. Audio comes back as
base64 WAV in JSON and is brought to 8 kHz mono PCM here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from typing import Any

import aiohttp

from bridge.clock import Clock, SystemClock
from tts_cache.audio import AudioError, read_wav, resample
from tts_cache.config import StcConfig
from tts_cache.providers.base import (
    ProviderAuthError,
    ProviderRejected,
    ProviderUnavailable,
    SynthesisRequest,
)
from tts_cache.providers.http_client import (
    HTTP_FORBIDDEN,
    HTTP_OK,
    HTTP_UNAUTHORIZED,
    RETRYABLE_STATUSES,
    HttpProviderBase,
)

log = logging.getLogger(__name__)

NAME = "stc"
MAX_CHARS = 5000
SESSION_PATH = "/vksession/rest/session"
VOICES_PATH = "/vktts/rest/v1/languages/{language}/voices"
SYNTHESIZE_PATH = "/vktts/rest/v1/synthesize"
SESSION_HEADER = "X-Session-ID"


class _SessionExpired(Exception):
    """A 401 on a session-authenticated call: re-authenticate, once."""


class StcProvider(HttpProviderBase):
    name = NAME
    paid = True
    max_chars = MAX_CHARS

    def __init__(
        self, config: StcConfig, timeout_seconds: float, clock: Clock | None = None
    ) -> None:
        super().__init__(timeout_seconds, config.max_concurrency)
        self._config = config
        self._clock = clock or SystemClock()
        self.default_voice = config.default_voice
        self._base = config.url.rstrip("/")
        self._session_id: str | None = None
        self._auth_lock = asyncio.Lock()
        self._voices: tuple[str, ...] = ()
        self._voices_at: float | None = None
        self._voices_lock = asyncio.Lock()

    async def synthesize(self, request: SynthesisRequest) -> bytes:
        voice = request.voice or self.default_voice
        if voice not in await self.voices():
            raise ProviderRejected(NAME, f"unknown voice {voice!r}")
        body = {
            "voice_name": voice,
            "text": {"mime": "text/plain", "value": request.text},
            "audio": "audio/wav",
        }
        reply = await self._authed("POST", SYNTHESIZE_PATH, body)
        return _audio(reply)

    async def voices(self) -> tuple[str, ...]:
        async with self._voices_lock:
            now = self._clock.monotonic()
            fresh = (
                self._voices_at is not None
                and now - self._voices_at < self._config.voices_ttl_seconds
            )
            if not fresh:
                path = VOICES_PATH.format(language=self._config.language)
                reply = await self._authed("GET", path, None)
                self._voices = _voice_names(reply)
                self._voices_at = now
                log.info("stc offers %d voices", len(self._voices))
            return self._voices

    async def _authed(self, method: str, path: str, body: Any) -> Any:
        """One call with the session; on 401 one new session and one retry."""
        for fresh_session in (False, True):
            session_id = await self._session_token(renew=fresh_session)
            try:
                return await self._call(method, path, body, session_id)
            except _SessionExpired:
                self._drop(session_id)
        raise ProviderAuthError(NAME, "session refused right after authentication")

    async def _session_token(self, *, renew: bool) -> str:
        async with self._auth_lock:
            if self._session_id is None or renew:
                self._session_id = await self._authenticate()
            return self._session_id

    def _drop(self, session_id: str) -> None:
        if self._session_id == session_id:
            self._session_id = None

    async def _authenticate(self) -> str:
        credentials = {
            "username": self._config.username,
            "password": self._config.password.get_secret_value(),
            "domain_id": self._config.domain_id,
        }
        status, reply = await self._request("POST", SESSION_PATH, credentials, {})
        if status in (HTTP_UNAUTHORIZED, HTTP_FORBIDDEN):
            raise ProviderAuthError(NAME, f"HTTP {status}: credentials refused")
        _check(status)
        session_id = reply.get("session_id") if isinstance(reply, dict) else None
        if not isinstance(session_id, str) or not session_id:
            raise ProviderUnavailable(NAME, "session reply has no session_id")
        log.info("stc session opened")
        return session_id

    async def _call(self, method: str, path: str, body: Any, session_id: str) -> Any:
        status, reply = await self._request(
            method, path, body, {SESSION_HEADER: session_id}
        )
        if status == HTTP_UNAUTHORIZED:
            raise _SessionExpired
        _check(status)
        return reply

    async def _request(
        self, method: str, path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        async with self._slots:
            try:
                async with self.session().request(
                    method, self._base + path, json=body, headers=headers
                ) as response:
                    status = response.status
                    reply = (
                        await response.json(content_type=None)
                        if status == HTTP_OK
                        else None
                    )
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                raise self.unavailable(exc) from None
        return status, reply


def _check(status: int) -> None:
    if status == HTTP_OK:
        return
    if status == HTTP_FORBIDDEN:
        raise ProviderAuthError(NAME, f"HTTP {status}: access refused")
    if status in RETRYABLE_STATUSES:
        raise ProviderUnavailable(NAME, f"HTTP {status}")
    raise ProviderRejected(NAME, f"HTTP {status}")


def _voice_names(reply: Any) -> tuple[str, ...]:
    if not isinstance(reply, list):
        raise ProviderUnavailable(NAME, "voice list is not a JSON array")
    names = [v.get("name") for v in reply if isinstance(v, dict)]
    return tuple(n for n in names if isinstance(n, str))


def _audio(reply: Any) -> bytes:
    data = reply.get("data") if isinstance(reply, dict) else None
    if not isinstance(data, str):
        raise ProviderUnavailable(NAME, "synthesis reply has no base64 data")
    try:
        pcm, rate = read_wav(base64.b64decode(data, validate=True))
    except (binascii.Error, AudioError) as exc:
        raise ProviderUnavailable(NAME, f"synthesis reply is not WAV: {exc}") from None
    if not pcm:
        raise ProviderUnavailable(NAME, "synthesis reply holds no audio")
    return resample(pcm, rate)
