"""Speech providers behind one interface (`base.TtsProvider`)."""

from __future__ import annotations

from bridge.clock import Clock
from tts_cache.config import TtsConfig
from tts_cache.providers.base import TtsProvider


def build_provider(config: TtsConfig, clock: Clock) -> TtsProvider:
    """The configured provider; cloud ones import aiohttp only when chosen."""
    timeout = config.request_timeout_seconds
    if config.provider == "yandex":
        from tts_cache.providers.yandex import YandexProvider

        return YandexProvider(config.yandex, timeout)
    if config.provider == "stc":
        from tts_cache.providers.stc import StcProvider

        return StcProvider(config.stc, timeout, clock)
    from tts_cache.providers.espeak import EspeakProvider

    return EspeakProvider(config.espeak.default_voice)
