"""The STC (ЦРТ) cloud client against `FakeStc` (a real HTTP server)."""

from __future__ import annotations

import pytest

from bridge.clock import FakeClock
from tests.fakes.tts_servers import MS_PER_CHAR, FakeStc
from tts_cache import audio
from tts_cache.config import StcConfig
from tts_cache.providers.base import (
    ProviderAuthError,
    ProviderRejected,
    SynthesisRequest,
)
from tts_cache.providers.stc import StcProvider


@pytest.fixture
def fake() -> FakeStc:
    return FakeStc()


@pytest.fixture
async def stc(aiohttp_server, fake, clock: FakeClock):
    server = await aiohttp_server(fake.app())
    config = StcConfig(
        url=str(server.make_url("/")),
        username=fake.username,
        password=fake.password,
        domain_id=fake.domain_id,
        voices_ttl_seconds=3600,
    )
    provider = StcProvider(config, timeout_seconds=5, clock=clock)
    yield provider
    await provider.close()


async def test_one_session_and_one_voice_list_for_many_calls(stc, fake) -> None:
    for text in ("Первый", "Второй", "Третий"):
        pcm = await stc.synthesize(SynthesisRequest(text, ""))
        assert audio.duration_seconds(pcm) == pytest.approx(
            len(text) * MS_PER_CHAR / 1000, abs=0.01
        )
    assert fake.session_calls == 1
    assert fake.voice_calls == 1
    assert [r["voice_name"] for r in fake.synth_requests] == ["Julia_8000n"] * 3
    assert fake.synth_requests[0]["text"] == {"mime": "text/plain", "value": "Первый"}
    assert fake.synth_requests[0]["audio"] == "audio/wav"


async def test_voice_list_is_refetched_only_after_its_ttl(stc, fake, clock) -> None:
    await stc.voices()
    clock.advance(3599)
    await stc.voices()
    assert fake.voice_calls == 1
    clock.advance(2)
    await stc.voices()
    assert fake.voice_calls == 2


async def test_expired_session_is_renewed_once(stc, fake) -> None:
    await stc.synthesize(SynthesisRequest("Первый", ""))
    fake.expire_sessions()
    await stc.synthesize(SynthesisRequest("Второй", ""))
    assert fake.session_calls == 2
    assert len(fake.synth_requests) == 2


async def test_persistent_401_stops_after_one_reauthentication(stc, fake) -> None:
    await stc.voices()
    fake.always_401 = True
    with pytest.raises(ProviderAuthError):
        await stc.synthesize(SynthesisRequest("Первый", ""))
    # The incumbent recursed forever here; we make exactly one new session.
    assert fake.session_calls == 2


async def test_wrong_credentials_are_an_auth_error(aiohttp_server, fake, clock) -> None:
    server = await aiohttp_server(fake.app())
    config = StcConfig(
        url=str(server.make_url("/")),
        username=fake.username,
        password="wrong-password-value",
        domain_id=fake.domain_id,
    )
    provider = StcProvider(config, timeout_seconds=5, clock=clock)
    try:
        with pytest.raises(ProviderAuthError) as caught:
            await provider.synthesize(SynthesisRequest("Первый", ""))
    finally:
        await provider.close()
    assert "wrong-password-value" not in str(caught.value)
    assert fake.session_calls == 1


async def test_unknown_voice_is_rejected_before_synthesis(stc, fake) -> None:
    with pytest.raises(ProviderRejected, match="Oksana"):
        await stc.synthesize(SynthesisRequest("Первый", "Oksana_8000n"))
    assert fake.synth_requests == []


async def test_wideband_wav_is_resampled_to_8_khz(aiohttp_server, clock) -> None:
    fake = FakeStc(wav_rate=22050)
    server = await aiohttp_server(fake.app())
    config = StcConfig(
        url=str(server.make_url("/")),
        username=fake.username,
        password=fake.password,
        domain_id=fake.domain_id,
    )
    provider = StcProvider(config, timeout_seconds=5, clock=clock)
    try:
        pcm = await provider.synthesize(SynthesisRequest("Пример", ""))
    finally:
        await provider.close()
    assert audio.duration_seconds(pcm) == pytest.approx(
        6 * MS_PER_CHAR / 1000, abs=0.01
    )
    assert audio.rms(pcm) > 1000
