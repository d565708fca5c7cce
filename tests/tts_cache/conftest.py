"""Fixtures for the TTS cache: a cache over a real database and a scripted provider."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from bridge.clock import FakeClock
from bridge.storage.database import Database
from tests.fakes.tts_servers import ScriptedProvider
from tts_cache.cache import TtsCache
from tts_cache.config import TtsConfig
from tts_cache.metrics import TtsMetrics
from tts_cache.providers.base import TtsProvider


@pytest.fixture
def provider() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture
async def make_cache(
    db: Database, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Callable[..., Any]]:
    """Start caches on the `db` fixture (SQLite and PostgreSQL); closed afterwards."""
    made: list[TtsCache] = []

    async def make(
        provider: TtsProvider, registry: CollectorRegistry | None = None, **config: Any
    ) -> TtsCache:
        cache = TtsCache(
            TtsConfig(**config),
            directory=tmp_path / "tts",
            db=db,
            clock=clock,
            provider=provider,
            metrics=TtsMetrics(registry or CollectorRegistry()),
        )
        await cache.start()
        made.append(cache)
        return cache

    yield make
    for cache in made:
        await cache.close()


@pytest.fixture
async def cache(make_cache, provider: ScriptedProvider) -> TtsCache:
    made: TtsCache = await make_cache(provider)
    return made
