"""The TTS API on the whole running service (real sockets, real espeak-ng)."""

from __future__ import annotations

import io
import json
import logging
import wave
from pathlib import Path

import aiohttp
import pytest

from bridge.service import running
from tests.conftest import ADMIN_TOKEN, make_config
from tests.fakes.tts_servers import FakeStc, FakeYandex
from tts_cache import audio

YANDEX_KEY = "AQVN-secret-yandex-key-never-logged"
STC_PASSWORD = "stc-secret-password-never-logged"


async def test_stats_needs_the_admin_token(service) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{service.url}/api/v1/tts/stats") as reply,
    ):
        assert reply.status == 401
        assert (await reply.json())["error"]["id"] == "unauthorized"


async def test_synthesize_then_stats_show_the_cache_and_costs(service) -> None:
    body = {"text": "Здравствуйте, вы позвонили в компанию.", "format": "wav"}
    async with aiohttp.ClientSession(headers=service.admin_headers) as http:
        async with http.post(f"{service.url}/api/v1/tts/synthesize", json=body) as r:
            assert r.status == 200
            assert r.headers["Content-Type"] == "audio/wav"
            assert r.headers["X-Tts-Cached"] == "false"
            data = await r.read()
        async with http.post(f"{service.url}/api/v1/tts/synthesize", json=body) as r:
            assert r.headers["X-Tts-Cached"] == "true"
            assert await r.read() == data
        async with http.get(f"{service.url}/api/v1/tts/stats") as r:
            stats = await r.json()
        async with http.get(f"{service.url}/metrics") as r:
            metrics = await r.text()
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        pcm = w.readframes(w.getnframes())
    assert 1.0 < audio.duration_seconds(pcm) < 6.0
    assert audio.rms(pcm) > 500
    assert stats["provider"] == "espeak"
    assert stats["paid"] is False
    assert stats["cache"]["entries"] == 1
    assert (stats["cache"]["hits"], stats["cache"]["misses"]) == (1, 1)
    assert stats["usage"] == [
        {"provider": "espeak", "characters": 38, "requests": 1, "failures": 0}
    ]
    assert 'telebridge_tts_characters_total{paid="false",provider="espeak"} 38.0' in (
        metrics
    )


@pytest.mark.parametrize(
    ("body", "error_id"),
    [
        ({"text": ""}, "invalid-field"),
        ({"text": "ok", "colour": "red"}, "invalid-field"),
        ({"text": "ok", "speed": 9}, "invalid-field"),
        ({"text": "ok", "format": "mp3"}, "invalid-field"),
        ({"text": "x" * 1001}, "tts-text-rejected"),
        ({"text": "   "}, "tts-text-rejected"),
        ({"text": "ok", "voice": "no-such-voice"}, "tts-request-rejected"),
    ],
)
async def test_bad_requests_are_4xx_and_store_nothing(service, body, error_id) -> None:
    async with aiohttp.ClientSession(headers=service.admin_headers) as http:
        async with http.post(f"{service.url}/api/v1/tts/synthesize", json=body) as r:
            assert r.status == 400
            assert (await r.json())["error"]["id"] == error_id
        async with http.get(f"{service.url}/api/v1/tts/stats") as r:
            assert (await r.json())["cache"]["entries"] == 0


async def test_openapi_declares_the_tts_operations(service) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{service.url}/api/v1/openapi.json") as r,
    ):
        doc = await r.json()
    assert "get" in doc["paths"]["/api/v1/tts/stats"]
    assert "post" in doc["paths"]["/api/v1/tts/synthesize"]
    assert "TtsStats" in doc["components"]["schemas"]


@pytest.mark.parametrize("provider", ["yandex", "stc"])
async def test_refused_credentials_never_reach_logs_errors_or_metrics(
    aiohttp_server, tmp_path: Path, caplog, provider
) -> None:
    if provider == "yandex":
        fake_app = FakeYandex(api_key="the-accepted-key").app()
    else:
        fake_app = FakeStc(password="the-accepted-password").app()
    server = await aiohttp_server(fake_app)
    if provider == "yandex":
        secret = YANDEX_KEY
        section = {
            "url": str(server.make_url("/speech/v1/tts:synthesize")),
            "api_key": secret,
        }
    else:
        secret = STC_PASSWORD
        section = {
            "url": str(server.make_url("/")),
            "username": "ivr",
            "password": secret,
            "domain_id": "201",
        }
    config = make_config(tmp_path, tts={"provider": provider, provider: section})
    caplog.set_level(logging.DEBUG)
    async with running(config) as (_core, where):
        url = "http://{}:{}".format(*where.http)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.post(
                f"{url}/api/v1/tts/synthesize", json={"text": "Привет"}
            ) as r:
                assert r.status == 503
                error = await r.text()
            async with http.get(f"{url}/api/v1/tts/stats") as r:
                stats = await r.text()
            async with http.get(f"{url}/metrics") as r:
                metrics = await r.text()
            async with http.get(f"{url}/healthz") as r:
                health = await r.text()
    assert '"tts-provider-auth"' in error
    tts_health = json.loads(health)["components"]["tts"]
    assert tts_health["state"] == "degraded"
    assert "credentials refused" in tts_health["detail"]
    assert json.loads(stats)["usage"][0]["failures"] == 1
    for text in (error, stats, metrics, health, caplog.text):
        assert secret not in text
    assert all(secret not in str(r.args) for r in caplog.records)
