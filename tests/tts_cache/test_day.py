"""A simulated day of smart-IVR calls after pre-warm sends 0 characters to Yandex.

Yandex is `FakeYandex` on a real port (SpeechKit REST v1 as documented); the cache,
its database index and the audio files are real.
"""

from __future__ import annotations

import random

from prometheus_client import CollectorRegistry

from tests.fakes.tts_servers import FakeYandex
from tts_cache.audio import AudioFormat
from tts_cache.config import YandexConfig
from tts_cache.providers.yandex import YandexProvider

API_KEY = "AQVN-day-test-key-0123456789"
EMPLOYEES = [
    "Иванов Иван",
    "Петрова Мария",
    "Сидоров Алексей",
    "Кузнецова Ольга",
    "Смирнов Дмитрий",
    "Попова Анна",
    "Волков Сергей",
    "Морозова Елена",
]
DIGITS = ["один", "два", "три"]
FIXED = [
    "Здравствуйте! Вы позвонили в компанию Ромашка.",
    "Чтобы соединиться с",
    "нажмите",
    "Соединяю с сотрудником",
    (
        "Абонент сейчас разговаривает, попробуйте позвонить позднее "
        "или введите другой номер"
    ),
    "Не вышло связаться с абонентом. Попробуйте еще раз.",
]
CALLS = 300


def menu_prompt(offered: list[str]) -> list[str]:
    fragments = [FIXED[0]]
    for digit, name in zip(DIGITS, offered, strict=False):
        fragments += [FIXED[1], name, FIXED[2], digit]
    return fragments


def yandex(server) -> YandexProvider:
    config = YandexConfig(
        url=str(server.make_url("/speech/v1/tts:synthesize")),
        api_key=API_KEY,
        requests_per_second=40,
    )
    return YandexProvider(config, timeout_seconds=5)


async def test_day_of_calls_after_prewarm_costs_nothing(
    aiohttp_server, make_cache
) -> None:
    fake = FakeYandex(api_key=API_KEY)
    server = await aiohttp_server(fake.app())
    registry = CollectorRegistry()
    cache = await make_cache(yandex(server), registry=registry)

    # The routing table changed: pre-warm and pin every phrase it can speak.
    phrases = FIXED + EMPLOYEES + DIGITS
    report = await cache.prewarm(phrases)
    assert (report.synthesized, report.failed) == (len(phrases), 0)
    await cache.pin(report.keys)
    warm_requests, warm_characters = len(fake.requests), fake.characters
    assert warm_characters == sum(len(p) for p in phrases)
    billed = {"provider": "yandex", "paid": "true"}
    assert registry.get_sample_value("telebridge_tts_characters_total", billed) == (
        warm_characters
    )

    rng = random.Random(9)
    for call in range(CALLS):
        offered = rng.sample(EMPLOYEES, rng.randint(1, 3))
        path = await cache.synthesize_prompt(menu_prompt(offered))
        assert path.stat().st_size > 0
        chosen = rng.choice(offered)
        await cache.synthesize_prompt([FIXED[3], chosen], audio_format=AudioFormat.WAV)
        if call % 10 == 0:
            await cache.synthesize_prompt([FIXED[4]])
        if call == CALLS // 2:
            await cache.flush()  # the periodic index flush, mid-day

    assert len(fake.requests) == warm_requests
    assert fake.characters == warm_characters
    assert registry.get_sample_value("telebridge_tts_characters_total", billed) == (
        warm_characters
    )
    stats = cache.stats()
    assert stats.usage["yandex"].characters == warm_characters
    assert stats.pinned == len(phrases)
    assert stats.hits > CALLS
    gauge = "telebridge_tts_cache_entries"
    assert registry.get_sample_value(gauge, {"kind": "fragment"}) == len(phrases)
    assert registry.get_sample_value(gauge, {"kind": "prompt"}) == stats.prompts
    assert registry.get_sample_value("telebridge_tts_cache_bytes") == stats.bytes


async def test_a_restart_keeps_the_day_free(aiohttp_server, make_cache) -> None:
    fake = FakeYandex(api_key=API_KEY)
    server = await aiohttp_server(fake.app())
    first = await make_cache(yandex(server))
    await first.prewarm(FIXED + EMPLOYEES + DIGITS)
    await first.close()
    warm = len(fake.requests)
    again = await make_cache(yandex(server))
    await again.synthesize_prompt(menu_prompt(EMPLOYEES[:3]))
    assert len(fake.requests) == warm
