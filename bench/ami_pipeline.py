"""AMI parse + normalize throughput: raw AMI bytes → call events, on one core.

The stream is every scenario in tests/fixtures/ami repeated with fresh uniqueids
and a fresh caller number per call (so the number-normalization cache does not
flatter the result), read in 64 KiB chunks as the connection reads the socket.
Target (issue 4): >= 50,000 AMI events/s on one core. The rate is taken over CPU
time (`time.process_time`), so a machine shared with other work measures the cost
of the code rather than its share of the CPU; wall-clock rates are printed too.
Run:

    .venv/bin/python -m bench.ami_pipeline
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime

from pbx.asterisk.calls import CallTracker
from pbx.asterisk.parser import parse
from tests.fakes.ami_frames import scenario_names, wire_bytes

CALLS_PER_SCENARIO = 400
RUNS = 5
CHUNK = 64 * 1024
TARGET_EVENTS_PER_SECOND = 50_000
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def build_stream(rng: random.Random) -> bytes:
    templates = [wire_bytes(name) for name in scenario_names()]
    parts = []
    for i in range(CALLS_PER_SCENARIO):
        for t, template in enumerate(templates):
            caller = f"7916{rng.randrange(10**7):07d}".encode()
            prefix = f"{1800000000 + i * 100 + t}".encode()
            parts.append(
                template.replace(b"79161234567", caller).replace(b"17676", prefix)
            )
    return b"".join(parts)


def run_once(stream: bytes) -> tuple[int, int, float, float]:
    tracker = CallTracker(trunk_contexts={"from-trunk"})
    messages_seen = events_out = 0
    rest = b""
    started = time.perf_counter()
    cpu_started = time.process_time()
    for offset in range(0, len(stream), CHUNK):
        messages, rest = parse(rest + stream[offset : offset + CHUNK])
        messages_seen += len(messages)
        for message in messages:
            events_out += len(tracker.handle(message, NOW))
    cpu = time.process_time() - cpu_started
    elapsed = time.perf_counter() - started
    assert tracker.live_legs == 0
    return messages_seen, events_out, cpu, elapsed


def main() -> None:
    stream = build_stream(random.Random(4))
    rates, wall_rates = [], []
    for _ in range(RUNS):
        messages, events, cpu, elapsed = run_once(stream)
        rates.append(messages / cpu)
        wall_rates.append(messages / elapsed)
    median = statistics.median(rates)
    print(
        f"AMI stream: {len(stream) / 1e6:.1f} MB, {messages} AMI events, "
        f"{events} call events out"
    )
    print(
        f"parse + normalize: median {median:,.0f} AMI events per CPU-second "
        f"over {RUNS} runs "
        f"(min {min(rates):,.0f}, max {max(rates):,.0f}); "
        f"target {TARGET_EVENTS_PER_SECOND:,}: "
        f"{'met' if median >= TARGET_EVENTS_PER_SECOND else 'NOT met'}"
    )
    print(f"wall clock: median {statistics.median(wall_rates):,.0f} AMI events/s")


if __name__ == "__main__":
    main()
