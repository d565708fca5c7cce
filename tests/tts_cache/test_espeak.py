"""Real offline synthesis with espeak-ng from the espeakng-loader wheel."""

from __future__ import annotations

import asyncio

import pytest

from tts_cache import audio
from tts_cache.providers.base import ProviderRejected, SynthesisRequest
from tts_cache.providers.espeak import EspeakProvider

PHRASE = "Здравствуйте! Соединяю с менеджером Ивановым."


@pytest.fixture
async def espeak():
    provider = EspeakProvider("ru")
    yield provider
    await provider.close()


async def test_russian_phrase_is_8_khz_audible_speech_of_plausible_length(
    espeak,
) -> None:
    pcm = await espeak.synthesize(SynthesisRequest(PHRASE, ""))
    assert len(pcm) % audio.SAMPLE_WIDTH == 0
    seconds = audio.duration_seconds(pcm, audio.TELEPHONE_RATE)
    # ~6 syllables/s: 16 syllables is 2-4 s at the normal rate.
    assert 1.5 < seconds < 5.0
    assert audio.rms(pcm) > 500  # speech, not silence
    # The 8 kHz claim holds: resampled from espeak's native 22 050 Hz.
    values = audio.samples(pcm)
    assert max(values) > 2000
    assert min(values) < -2000


async def test_speed_changes_duration(espeak) -> None:
    normal = await espeak.synthesize(SynthesisRequest(PHRASE, "ru", speed=1.0))
    fast = await espeak.synthesize(SynthesisRequest(PHRASE, "ru", speed=2.0))
    assert audio.duration_seconds(fast) < audio.duration_seconds(normal) * 0.75


async def test_concurrent_requests_are_serialized_safely(espeak) -> None:
    texts = ["Один", "Два", "Три", "Четыре"]
    results = await asyncio.gather(
        *(espeak.synthesize(SynthesisRequest(t, "ru")) for t in texts)
    )
    assert all(audio.rms(pcm) > 500 for pcm in results)


async def test_unknown_voice_is_rejected_and_russian_is_listed(espeak) -> None:
    with pytest.raises(ProviderRejected, match="unknown voice"):
        await espeak.synthesize(SynthesisRequest("Тест", "no-such-voice-xyz"))
    assert any(v.endswith("/ru") for v in await espeak.voices())
