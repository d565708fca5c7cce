"""The one interface every speech provider implements, and its error tree.

Providers return 16-bit signed little-endian mono PCM at 8 kHz: whatever the
provider speaks natively is converted before it leaves the provider module.

    TtsError
    ├── TextRejected          empty, or longer than the limit; nothing was sent
    ├── TtsTimeout            a prompt's deadline passed (the IVR falls back)
    └── ProviderError         the provider could not give audio
        ├── ProviderAuthError     credentials refused (after one re-authentication)
        ├── ProviderRejected     the request itself was refused (voice, text)
        └── ProviderUnavailable  network, timeout, 429 or 5xx; worth retrying later

Messages never carry credentials: they name the provider and the HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class TtsError(Exception):
    """Speech could not be produced; the caller falls back."""


class TextRejected(TtsError):
    pass


class TtsTimeout(TtsError):
    pass


class ProviderError(TtsError):
    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


class ProviderAuthError(ProviderError):
    pass


class ProviderRejected(ProviderError):
    pass


class ProviderUnavailable(ProviderError):
    pass


@dataclass(frozen=True, slots=True)
class SynthesisRequest:
    text: str
    voice: str
    speed: float = 1.0
    emotion: str = ""


class TtsProvider(Protocol):
    # Stable id in cache keys, metrics and the API.
    name: str
    # Paid providers bill per character; the cache exists to ask them once.
    paid: bool
    default_voice: str
    max_chars: int

    async def synthesize(self, request: SynthesisRequest) -> bytes:
        """8 kHz 16-bit mono PCM; raises `ProviderError`."""
        ...

    async def voices(self) -> tuple[str, ...]:
        """Voice names the provider offers (cached where it costs a request)."""
        ...

    async def close(self) -> None: ...
