"""The `[tts]` config section: which provider speaks, and where audio is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from bridge.config_base import Section

TtsProviderName = Literal["espeak", "yandex", "stc"]
AudioFormatName = Literal["sln", "wav", "alaw", "ulaw"]
MEBIBYTE = 1024 * 1024


class EspeakConfig(Section):
    # espeak-ng voice names: "ru" is the Russian voice shipped in the wheel.
    default_voice: str = "ru"


class YandexConfig(Section):
    """SpeechKit REST v1; billed per character sent."""

    url: str = "https://tts.api.cloud.yandex.net/speech/v1/tts:synthesize"
    # One of the two: a service account API key, or an IAM token (lives <= 12 h).
    api_key: SecretStr = SecretStr("")
    iam_token: SecretStr = SecretStr("")
    # Needed only with a user account's IAM token.
    folder_id: str = ""
    lang: str = "ru-RU"
    default_voice: str = "alena"
    # The quota is 40 requests/s per cloud; leave room for other users of it.
    requests_per_second: float = Field(default=20.0, gt=0, le=40)
    max_concurrency: int = Field(default=4, ge=1, le=40)
    # Attempts after a 429 or 5xx; auth and request errors are never retried.
    retries: int = Field(default=1, ge=0, le=5)

    def has_credentials(self) -> bool:
        return bool(
            self.api_key.get_secret_value() or self.iam_token.get_secret_value()
        )


class StcConfig(Section):
    """Speech Technology Center (ЦРТ) cloud, session-authenticated."""

    url: str = "https://cp.speechpro.com"
    username: str = ""
    password: SecretStr = SecretStr("")
    domain_id: str = ""
    language: str = "Russian"
    # The *_8000n voices are the telephone (8 kHz) ones.
    default_voice: str = "Julia_8000n"
    # The voice list is fetched once and kept this long, never per call.
    voices_ttl_seconds: float = Field(default=86400.0, gt=0)
    max_concurrency: int = Field(default=4, ge=1, le=40)


class TtsConfig(Section):
    # espeak needs no account, so a fresh install can speak.
    provider: TtsProviderName = "espeak"
    voice: str = ""
    speed: float = Field(default=1.0, ge=0.1, le=3.0)
    emotion: str = ""
    format: AudioFormatName = "sln"
    cache_dir: str = ""
    max_cache_mb: int = Field(default=512, ge=1)
    max_text_chars: int = Field(default=1000, ge=1, le=5000)
    prompt_deadline_seconds: float = Field(default=3.0, gt=0, le=60)
    request_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    index_flush_seconds: float = Field(default=30.0, gt=0, le=3600)
    espeak: EspeakConfig = EspeakConfig()
    yandex: YandexConfig = YandexConfig()
    stc: StcConfig = StcConfig()

    def missing(self) -> list[tuple[str, str]]:
        if self.provider == "yandex" and not self.yandex.has_credentials():
            return [("yandex.api_key", "or yandex.iam_token: required for yandex")]
        if self.provider == "stc":
            stc = self.stc
            for key, value in (
                ("username", stc.username),
                ("password", stc.password.get_secret_value()),
                ("domain_id", stc.domain_id),
            ):
                if not value:
                    return [(f"stc.{key}", "required when tts.provider is 'stc'")]
        return []

    def cache_path(self, data_dir: Path) -> Path:
        """Where audio files live: `cache_dir`, else `<storage.data_dir>/tts`."""
        return Path(self.cache_dir) if self.cache_dir else Path(data_dir) / "tts"

    @property
    def max_cache_bytes(self) -> int:
        return self.max_cache_mb * MEBIBYTE
