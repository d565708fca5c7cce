"""The TTS API: `GET /api/v1/tts/stats` and `POST /api/v1/tts/synthesize` (admin).

Both need the admin token: synthesis can cost money, and stats show spending.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bridge.core import Core
from bridge.errors import ApiError, BadRequest, InvalidField, ServiceUnavailable
from bridge.http.auth import check_admin
from bridge.http.bodies import read_model
from bridge.http.openapi import Media
from tts_cache.audio import AudioFormat, decode, encode
from tts_cache.cache import CacheStats, TtsCache
from tts_cache.providers.base import (
    ProviderAuthError,
    ProviderRejected,
    TextRejected,
    TtsError,
    TtsTimeout,
)

STATS_PATH = "/api/v1/tts/stats"
SYNTHESIZE_PATH = "/api/v1/tts/synthesize"
KEY_HEADER = "X-Tts-Key"
CACHED_HEADER = "X-Tts-Cached"
CONTENT_TYPES = {
    AudioFormat.SLN: "audio/L16; rate=8000; channels=1",
    AudioFormat.WAV: "audio/wav",
    AudioFormat.ALAW: "audio/PCMA",
    AudioFormat.ULAW: "audio/PCMU",
}
TTS = web.AppKey("tts", TtsCache)


class ProviderUsage(BaseModel):
    provider: str
    characters: int = Field(description="characters sent to the provider, ever")
    requests: int
    failures: int


class CacheSummary(BaseModel):
    entries: int
    fragments: int
    prompts: int
    bytes: int
    max_bytes: int
    pinned: int
    hits: int = Field(description="since the service started")
    misses: int = Field(description="since the service started")
    evictions: int
    corrupt: int = Field(description="damaged or missing files found and redone")


class TtsStats(BaseModel):
    provider: str
    paid: bool
    voice: str
    cache: CacheSummary
    usage: list[ProviderUsage]


class SynthesizeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    voice: str | None = None
    speed: float | None = Field(default=None, ge=0.1, le=3.0)
    emotion: str | None = None
    format: AudioFormat = AudioFormat.WAV


def stats_model(stats: CacheStats) -> TtsStats:
    return TtsStats(
        provider=stats.provider,
        paid=stats.paid,
        voice=stats.voice,
        cache=CacheSummary(
            entries=stats.entries,
            fragments=stats.fragments,
            prompts=stats.prompts,
            bytes=stats.bytes,
            max_bytes=stats.max_bytes,
            pinned=stats.pinned,
            hits=stats.hits,
            misses=stats.misses,
            evictions=stats.evictions,
            corrupt=stats.corrupt,
        ),
        usage=[
            ProviderUsage(
                provider=name,
                characters=u.characters,
                requests=u.requests,
                failures=u.failures,
            )
            for name, u in sorted(stats.usage.items())
        ],
    )


def add_routes(app: web.Application, core: Core) -> None:
    async def stats(request: web.Request) -> web.Response:
        check_admin(request, core.admin_token)
        body = stats_model(request.app[TTS].stats())
        return web.json_response(body.model_dump(mode="json"))

    async def synthesize(request: web.Request) -> web.Response:
        check_admin(request, core.admin_token)
        body = await read_model(request, SynthesizeBody)
        cache = request.app[TTS]
        try:
            spec = cache.spec(body.voice, body.speed, body.emotion)
            phrase = await cache.synthesize(body.text, spec)
            pcm = decode(phrase.path.read_bytes(), AudioFormat.SLN)
        except TtsError as exc:
            raise api_error(exc) from None
        headers = {
            KEY_HEADER: phrase.key,
            CACHED_HEADER: str(phrase.cached).lower(),
            "Content-Type": CONTENT_TYPES[body.format],
        }
        return web.Response(body=encode(pcm, body.format), headers=headers)

    app.router.add_get(STATS_PATH, stats)
    app.router.add_post(SYNTHESIZE_PATH, synthesize)
    core.openapi.add(
        "GET",
        STATS_PATH,
        summary="TTS cache size, hits and characters sent to each provider",
        responses={200: TtsStats, 401: None},
    )
    core.openapi.add(
        "POST",
        SYNTHESIZE_PATH,
        summary="Speak a phrase through the cache; the body is the audio file",
        body=SynthesizeBody,
        responses={
            200: Media(
                tuple(sorted({ct.split(";")[0] for ct in CONTENT_TYPES.values()}))
            ),
            400: None,
            401: None,
            503: None,
        },
    )


def api_error(exc: TtsError) -> ApiError:
    """The TTS error tree as API errors (messages carry no credentials)."""
    if isinstance(exc, TextRejected):
        return InvalidField("text", str(exc), error_id="tts-text-rejected")
    if isinstance(exc, ProviderRejected):
        return BadRequest(str(exc), error_id="tts-request-rejected")
    if isinstance(exc, ProviderAuthError):
        return ServiceUnavailable(str(exc), error_id="tts-provider-auth")
    if isinstance(exc, TtsTimeout):
        return ServiceUnavailable(str(exc), error_id="tts-timeout")
    return ServiceUnavailable(str(exc), error_id="tts-provider-unavailable")
