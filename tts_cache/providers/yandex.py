"""Yandex SpeechKit REST v1 `tts:synthesize`, asked for raw 8 kHz LPCM.

`format=lpcm&sampleRateHertz=8000` returns 16-bit signed little-endian mono
without a header: exactly Asterisk's `.sln`, so no conversion at all. Billed per
character sent; quota 40 requests/s; at most 5 000 characters a request.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import aiohttp

from tts_cache.config import YandexConfig
from tts_cache.providers.base import (
    ProviderAuthError,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    SynthesisRequest,
    TextRejected,
)
from tts_cache.providers.http_client import (
    HTTP_FORBIDDEN,
    HTTP_OK,
    HTTP_UNAUTHORIZED,
    RETRYABLE_STATUSES,
    HttpProviderBase,
    Pacer,
)

log = logging.getLogger(__name__)

NAME = "yandex"
MAX_CHARS = 5000
# The POST body limit. Percent-encoded Cyrillic takes 6 bytes a letter, so about
# 2 500 Russian characters fit, not 5 000.
MAX_BODY_BYTES = 15 * 1024
# API v1 voices (v3-only voices like dasha or kirill are refused by v1).
V1_VOICES = (
    "alena",
    "filipp",
    "ermil",
    "jane",
    "omazh",
    "zahar",
    "marina",
    "madi_ru",
    "lea",
    "john",
    "amira",
    "madi",
    "nigora",
)


class YandexProvider(HttpProviderBase):
    name = NAME
    paid = True
    max_chars = MAX_CHARS

    def __init__(self, config: YandexConfig, timeout_seconds: float) -> None:
        super().__init__(timeout_seconds, config.max_concurrency)
        self._config = config
        self.default_voice = config.default_voice
        self._pacer = Pacer(config.requests_per_second)

    async def synthesize(self, request: SynthesisRequest) -> bytes:
        size = len(urlencode(self._form(request)))
        if size > MAX_BODY_BYTES:
            raise TextRejected(
                f"text encodes to {size} bytes; Yandex accepts {MAX_BODY_BYTES}"
            )
        attempts = 1 + self._config.retries
        for attempt in range(1, attempts + 1):
            try:
                return await self._once(request)
            except ProviderUnavailable as exc:
                if attempt == attempts:
                    raise
                log.warning("yandex tts attempt %d failed (%s); retrying", attempt, exc)
        raise AssertionError("unreachable")  # pragma: no cover

    async def voices(self) -> tuple[str, ...]:
        return V1_VOICES

    async def _once(self, request: SynthesisRequest) -> bytes:
        await self._pacer.wait()
        async with self._slots:
            try:
                async with self.session().post(
                    self._config.url, data=self._form(request), headers=self._auth()
                ) as response:
                    body = await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise self.unavailable(exc) from None
        if status != HTTP_OK:
            raise _status_error(status, body)
        if not body or len(body) % 2:
            raise ProviderUnavailable(
                NAME, f"unexpected LPCM body of {len(body)} bytes"
            )
        return body

    def _form(self, request: SynthesisRequest) -> dict[str, str]:
        form = {
            "text": request.text,
            "lang": self._config.lang,
            "voice": request.voice or self.default_voice,
            "speed": f"{request.speed:.2f}",
            "format": "lpcm",
            "sampleRateHertz": "8000",
        }
        if request.emotion:
            form["emotion"] = request.emotion
        if self._config.folder_id:
            form["folderId"] = self._config.folder_id
        return form

    def _auth(self) -> dict[str, str]:
        key = self._config.api_key.get_secret_value()
        if key:
            return {"Authorization": f"Api-Key {key}"}
        return {"Authorization": f"Bearer {self._config.iam_token.get_secret_value()}"}


def _status_error(status: int, body: bytes) -> ProviderError:
    # Yandex's error bodies are JSON with a message; they never echo the key.
    detail = body[:200].decode("utf-8", "replace")
    if status in (HTTP_UNAUTHORIZED, HTTP_FORBIDDEN):
        return ProviderAuthError(NAME, f"HTTP {status}: credentials refused")
    if status in RETRYABLE_STATUSES:
        return ProviderUnavailable(NAME, f"HTTP {status}")
    return ProviderRejected(NAME, f"HTTP {status}: {detail}")
