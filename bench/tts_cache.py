"""TTS cache benchmarks: hit latency, and single flight under 100 concurrent misses.

    .venv/bin/python -m bench.tts_cache [--hits 20000] [--rounds 20]

Targets (issue 9): cache hit p99 <= 1 ms; 100 concurrent misses of one key -> exactly
one provider call. Runs on a real SQLite index and real files in a temp folder; the
misses go to the real offline espeak-ng provider (wrapped to count calls).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

from bridge.clock import SystemClock
from bridge.storage import migrate
from bridge.storage.database import Database
from tts_cache.cache import TtsCache
from tts_cache.config import TtsConfig
from tts_cache.metrics import TtsMetrics
from tts_cache.providers.base import SynthesisRequest
from tts_cache.providers.espeak import EspeakProvider

HIT_TARGET_MS = 1.0
CONCURRENT = 100
PHRASES = [
    "Здравствуйте! Вы позвонили в компанию Ромашка.",
    "Чтобы соединиться с",
    "нажмите",
    "Соединяю с сотрудником",
    "Иванов Иван",
    "Петрова Мария",
    "один",
    "два",
]


class CountingEspeak(EspeakProvider):
    def __init__(self) -> None:
        super().__init__("ru")
        self.calls = 0

    async def synthesize(self, request: SynthesisRequest) -> bytes:
        self.calls += 1
        return await super().synthesize(request)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def open_cache(folder: Path) -> tuple[TtsCache, CountingEspeak, Database]:
    db = Database(f"sqlite+aiosqlite:///{folder / 'bench.db'}")
    await migrate.upgrade(db)
    provider = CountingEspeak()
    cache = TtsCache(
        TtsConfig(),
        directory=folder / "tts",
        db=db,
        clock=SystemClock(),
        provider=provider,
        metrics=TtsMetrics(CollectorRegistry()),
    )
    await cache.start()
    return cache, provider, db


async def bench_hits(cache: TtsCache, count: int) -> None:
    await cache.prewarm(PHRASES)
    prompt = PHRASES[:3] + PHRASES[4:5] + PHRASES[2:3] + PHRASES[6:7]
    await cache.synthesize_prompt(prompt)
    for label, call in (
        ("fragment hit", lambda i: cache.synthesize(PHRASES[i % len(PHRASES)])),
        ("prompt hit (6 fragments)", lambda _i: cache.synthesize_prompt(prompt)),
    ):
        samples = []
        for i in range(count):
            started = time.perf_counter()
            await call(i)
            samples.append((time.perf_counter() - started) * 1000)
        p99 = percentile(samples, 0.99)
        verdict = "ok" if p99 <= HIT_TARGET_MS else "OVER TARGET"
        print(
            f"{label}: n={count} median={statistics.median(samples):.3f} ms "
            f"p99={p99:.3f} ms max={max(samples):.3f} ms "
            f"(target p99 <= {HIT_TARGET_MS} ms: {verdict})"
        )


async def bench_prompt_assembly(cache: TtsCache, count: int) -> None:
    """A prompt not seen before, from cached fragments: read, verify, join, write."""
    names = PHRASES[4:6]
    samples = []
    for i in range(count):
        fragments = [PHRASES[0], PHRASES[1], names[i % 2], PHRASES[2], f"{i}"]
        await cache.prewarm(fragments[-1:])
        started = time.perf_counter()
        await cache.synthesize_prompt(fragments)
        samples.append((time.perf_counter() - started) * 1000)
    print(
        f"new prompt from cached fragments (5, with fsync): n={count} "
        f"median={statistics.median(samples):.2f} ms "
        f"p99={percentile(samples, 0.99):.2f} ms (no target)"
    )


async def bench_single_flight(
    cache: TtsCache, provider: CountingEspeak, rounds: int
) -> None:
    walls = []
    for round_no in range(rounds):
        before = provider.calls
        text = f"Проверка одновременных запросов номер {round_no}"
        started = time.perf_counter()
        phrases = await asyncio.gather(
            *(cache.synthesize(text) for _ in range(CONCURRENT))
        )
        walls.append((time.perf_counter() - started) * 1000)
        calls = provider.calls - before
        assert calls == 1, f"round {round_no}: {calls} provider calls"
        assert len({p.path for p in phrases}) == 1
    print(
        f"{CONCURRENT} concurrent misses of one key x {rounds} rounds: "
        f"provider calls per round = 1 (all rounds), "
        f"median wall {statistics.median(walls):.1f} ms (one espeak synthesis)"
    )


async def main(hits: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        cache, provider, db = await open_cache(Path(folder))
        try:
            await bench_hits(cache, hits)
            await bench_prompt_assembly(cache, 200)
            await bench_single_flight(cache, provider, rounds)
        finally:
            await cache.close()
            await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hits", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.hits, args.rounds))
