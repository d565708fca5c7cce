"""Prometheus series of the TTS cache, on the app's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

SYNTHESIS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)


class TtsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.characters = Counter(
            "telebridge_tts_characters",
            "Characters sent to a speech provider (what paid providers bill)",
            ["provider", "paid"],
            registry=registry,
        )
        self.requests = Counter(
            "telebridge_tts_provider_requests",
            "Synthesis requests to a provider, by outcome",
            ["provider", "outcome"],
            registry=registry,
        )
        self.lookups = Counter(
            "telebridge_tts_cache_lookups",
            "Cache lookups of fragments and whole prompts",
            ["kind", "result"],
            registry=registry,
        )
        self.evictions = Counter(
            "telebridge_tts_cache_evictions",
            "Phrases evicted to stay under the size cap",
            registry=registry,
        )
        self.corrupt = Counter(
            "telebridge_tts_cache_corrupt_files",
            "Cached files found missing or damaged, then synthesized again",
            registry=registry,
        )
        self.bytes = Gauge(
            "telebridge_tts_cache_bytes",
            "Bytes of audio in the cache",
            registry=registry,
        )
        self.entries = Gauge(
            "telebridge_tts_cache_entries",
            "Audio files in the cache",
            ["kind"],
            registry=registry,
        )
        self.synthesis_seconds = Histogram(
            "telebridge_tts_synthesis_seconds",
            "Time a provider took for one fragment",
            ["provider"],
            buckets=SYNTHESIS_BUCKETS,
            registry=registry,
        )

    def declare_provider(self, provider: str, *, paid: bool) -> None:
        """Show the provider's series at zero before its first request."""
        self.characters.labels(provider, str(paid).lower())
        for outcome in ("ok", "error"):
            self.requests.labels(provider, outcome)
