"""The Yandex SpeechKit v1 client against `FakeYandex` (a real HTTP server)."""

from __future__ import annotations

import pytest

from tests.fakes.tts_servers import MS_PER_CHAR, FakeYandex
from tts_cache import audio
from tts_cache.config import YandexConfig
from tts_cache.providers.base import (
    ProviderAuthError,
    ProviderRejected,
    ProviderUnavailable,
    SynthesisRequest,
    TextRejected,
)
from tts_cache.providers.yandex import YandexProvider

API_KEY = "AQVN-yandex-api-key-secret-1234"
IAM_TOKEN = "t1.iam-token-secret-5678"


async def make(aiohttp_server, fake: FakeYandex, **config):
    server = await aiohttp_server(fake.app())
    settings = {
        "url": str(server.make_url("/speech/v1/tts:synthesize")),
        "requests_per_second": 40,
        **config,
    }
    return YandexProvider(YandexConfig(**settings), timeout_seconds=5)


async def test_request_fields_and_api_key_auth(aiohttp_server) -> None:
    fake = FakeYandex(api_key=API_KEY)
    provider = await make(aiohttp_server, fake, api_key=API_KEY)
    try:
        pcm = await provider.synthesize(
            SynthesisRequest("Добрый день", "jane", speed=1.25, emotion="good")
        )
    finally:
        await provider.close()
    assert fake.auth_headers == [f"Api-Key {API_KEY}"]
    assert fake.requests == [
        {
            "text": "Добрый день",
            "lang": "ru-RU",
            "voice": "jane",
            "speed": "1.25",
            "format": "lpcm",
            "sampleRateHertz": "8000",
            "emotion": "good",
        }
    ]
    # Raw LPCM is used as-is: 8 kHz 16-bit, no header to strip.
    assert audio.duration_seconds(pcm) == pytest.approx(
        11 * MS_PER_CHAR / 1000, abs=0.01
    )


async def test_iam_token_with_folder_and_default_voice(aiohttp_server) -> None:
    fake = FakeYandex(iam_token=IAM_TOKEN)
    provider = await make(
        aiohttp_server, fake, iam_token=IAM_TOKEN, folder_id="b1gfolder"
    )
    try:
        await provider.synthesize(SynthesisRequest("Привет", ""))
    finally:
        await provider.close()
    assert fake.auth_headers == [f"Bearer {IAM_TOKEN}"]
    assert fake.requests[0]["folderId"] == "b1gfolder"
    assert fake.requests[0]["voice"] == "alena"
    assert "emotion" not in fake.requests[0]


async def test_refused_key_is_an_auth_error_without_the_key(aiohttp_server) -> None:
    fake = FakeYandex(api_key="the-right-key")
    provider = await make(aiohttp_server, fake, api_key=API_KEY)
    try:
        with pytest.raises(ProviderAuthError) as caught:
            await provider.synthesize(SynthesisRequest("Привет", "alena"))
    finally:
        await provider.close()
    assert API_KEY not in str(caught.value)
    assert len(fake.auth_headers) == 1  # auth errors are not retried


async def test_bad_voice_is_rejected_not_retried(aiohttp_server) -> None:
    fake = FakeYandex(api_key=API_KEY)
    provider = await make(aiohttp_server, fake, api_key=API_KEY)
    try:
        with pytest.raises(ProviderRejected, match="400"):
            await provider.synthesize(SynthesisRequest("Привет", "dasha"))
    finally:
        await provider.close()
    assert len(fake.auth_headers) == 1


async def test_5xx_and_429_are_retried_a_bounded_number_of_times(
    aiohttp_server,
) -> None:
    fake = FakeYandex(api_key=API_KEY, fail_next=[503])
    provider = await make(aiohttp_server, fake, api_key=API_KEY, retries=1)
    try:
        pcm = await provider.synthesize(SynthesisRequest("Привет", "alena"))
        assert pcm
        fake.fail_next = [429, 429, 429]
        with pytest.raises(ProviderUnavailable, match="429"):
            await provider.synthesize(SynthesisRequest("Привет", "alena"))
    finally:
        await provider.close()
    assert len(fake.auth_headers) == 4  # 2 for the first call, 2 for the second
    assert fake.fail_next == [429]


async def test_timeout_is_a_typed_error(aiohttp_server) -> None:
    fake = FakeYandex(api_key=API_KEY, hang=True)
    server = await aiohttp_server(fake.app())
    config = YandexConfig(
        url=str(server.make_url("/speech/v1/tts:synthesize")),
        api_key=API_KEY,
        retries=0,
    )
    provider = YandexProvider(config, timeout_seconds=0.2)
    try:
        with pytest.raises(ProviderUnavailable, match="timeout"):
            await provider.synthesize(SynthesisRequest("Привет", "alena"))
    finally:
        await provider.close()


async def test_unreachable_provider_is_a_typed_error() -> None:
    config = YandexConfig(url="http://127.0.0.1:9/speech", api_key=API_KEY, retries=0)
    provider = YandexProvider(config, timeout_seconds=2)
    try:
        with pytest.raises(ProviderUnavailable):
            await provider.synthesize(SynthesisRequest("Привет", "alena"))
    finally:
        await provider.close()


async def test_text_over_the_body_limit_is_refused_unsent(aiohttp_server) -> None:
    fake = FakeYandex(api_key=API_KEY)
    provider = await make(aiohttp_server, fake, api_key=API_KEY)
    try:
        with pytest.raises(TextRejected, match="15360"):
            await provider.synthesize(SynthesisRequest("я" * 2600, "alena"))
        assert await provider.synthesize(SynthesisRequest("я" * 2400, "alena"))
    finally:
        await provider.close()
    assert len(fake.auth_headers) == 1
