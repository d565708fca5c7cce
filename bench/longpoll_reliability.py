"""Reliability of the events channel: publish while the bridge is SIGKILLed and
restarted and while consumer connections drop mid-response; then check that no
acknowledged event was lost.

    .venv/bin/python -m bench.longpoll_reliability [EVENTS] [KILLS] [PUBLISHERS]

The checker's rules (issue 3): 0 lost; gaps only where an explicit reset was
answered; duplicates only where an acknowledgement was lost — a publisher whose
POST died without an answer publishes again (a second event id, same payload), and
a consumer whose response was cut re-polls from its old cursor (same ids again,
dropped by id).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.service_process import ServiceProcess, free_port, write_config

_RETRYABLE = (aiohttp.ClientError, TimeoutError, ConnectionError)


@dataclass
class Ledger:
    acked: set[int] = field(default_factory=set)  # the service said 201
    ack_lost: set[int] = field(default_factory=set)  # sent, no answer, sent again
    applied: list[tuple[str, int]] = field(default_factory=list)  # (id, n), deduped
    redelivered: int = 0  # same event id again (a cut response re-polled)
    cut_responses: int = 0
    resets: list[dict[str, object]] = field(default_factory=list)
    kills: int = 0
    progress: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def until_acked(self, count: int) -> None:
        async with self.progress:
            await self.progress.wait_for(lambda: len(self.acked) >= count)

    async def ack(self, n: int) -> None:
        async with self.progress:
            self.acked.add(n)
            self.progress.notify_all()


@dataclass(frozen=True)
class Verdict:
    lost: list[int]  # acknowledged, never applied, and no reset said so
    unexplained_duplicates: list[int]
    out_of_order: int
    lost_with_reset: int = 0  # gaps a reset announced (retention exceeded)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.unexplained_duplicates or self.out_of_order)


def check(ledger: Ledger) -> Verdict:
    """Compare what publishers got acknowledged with what the consumer applied."""
    applied_ns = [n for _, n in ledger.applied]
    lost = sorted(ledger.acked - set(applied_ns))
    excused = bool(ledger.resets)  # a gap is allowed only after an explicit reset
    counts: dict[int, int] = {}
    for n in applied_ns:
        counts[n] = counts.get(n, 0) + 1
    dupes = sorted(n for n, c in counts.items() if c > 1 and n not in ledger.ack_lost)
    seqs = [int(i.split(".")[1]) for i, _ in ledger.applied]
    disorder = sum(1 for a, b in itertools.pairwise(seqs) if b <= a)
    return Verdict(
        [] if excused else lost, dupes, disorder, len(lost) if excused else 0
    )


async def publisher(
    svc: ServiceProcess, count: int, ledger: Ledger, lane: int = 0, lanes: int = 1
) -> None:
    """Publishes payloads n = lane, lane + lanes, ... one at a time."""
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for n in range(lane, count, lanes):
            attempts = 0
            while True:
                attempts += 1
                try:
                    async with session.post(
                        svc.url + "/api/v1/events",
                        json={"topic": "rel.test", "data": {"n": n}},
                        headers=svc.admin,
                    ) as resp:
                        if resp.status == 201:
                            await ledger.ack(n)
                            break
                except _RETRYABLE:
                    pass
                # No answer: it may or may not be stored; publishing again is
                # the at-least-once contract of the publisher side.
                ledger.ack_lost.add(n)
                await asyncio.sleep(0.02)


async def killer(svc: ServiceProcess, ledger: Ledger, kills: int, count: int) -> None:
    for k in range(kills):
        target = count * (k + 1) // (kills + 1)
        await ledger.until_acked(target)
        await svc.kill()
        ledger.kills += 1
        await svc.start()


async def run(
    count: int,
    kills: int,
    folder: Path,
    *,
    seed: int = 1,
    drain_seconds: float = 60,
    publishers: int = 1,
) -> Ledger:
    port = free_port()
    svc = ServiceProcess(write_config(folder, port), port)
    await svc.start()
    ledger = Ledger()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                svc.url + "/api/v1/consumers",
                json={"name": "base1", "kind": "onec"},
                headers=svc.admin,
            ) as resp:
                token = (await resp.json())["token"]
            async with session.get(
                svc.url + "/api/v1/events?wait=0",
                headers={"Authorization": f"Bearer {token}"},
            ) as resp:
                start = (await resp.json())["cursor"]
        done = asyncio.Event()
        reader = asyncio.create_task(consumer(svc, token, ledger, done, seed, start))
        await asyncio.gather(
            *(publisher(svc, count, ledger, k, publishers) for k in range(publishers)),
            killer(svc, ledger, kills, count),
        )
        done.set()
        try:
            async with asyncio.timeout(drain_seconds):
                await reader  # until every acknowledged event was applied
        except TimeoutError:
            pass  # what is still missing is reported as lost
    finally:
        with contextlib.suppress(Exception):
            await svc.terminate()
    return ledger


async def consumer(
    svc: ServiceProcess,
    token: str,
    ledger: Ledger,
    done: asyncio.Event,
    seed: int,
    start: str,
) -> None:
    rng = random.Random(seed)
    seen: set[str] = set()
    cursor = start
    timeout = aiohttp.ClientTimeout(total=10)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while not (done.is_set() and ledger.acked <= {n for _, n in ledger.applied}):
            url = f"{svc.url}/api/v1/events?wait=2&limit=50&cursor={cursor}"
            try:
                async with session.get(url, headers=headers) as resp:
                    if resp.status != 200:
                        await asyncio.sleep(0.02)
                        continue
                    if rng.random() < 0.1:
                        await resp.content.read(16)  # drop it mid-response
                        resp.close()
                        ledger.cut_responses += 1
                        continue
                    batch = await resp.json()
            except _RETRYABLE:
                await asyncio.sleep(0.02)
                continue
            if "reset" in batch:
                ledger.resets.append(batch["reset"])
            for event in batch["events"]:
                if event["id"] in seen:
                    ledger.redelivered += 1
                    continue
                seen.add(event["id"])
                ledger.applied.append((event["id"], event["data"]["n"]))
            cursor = batch["cursor"]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    kills = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    publishers = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        ledger = asyncio.run(run(count, kills, Path(tmp), publishers=publishers))
    print(f"{time.perf_counter() - started:.0f} s, {publishers} concurrent publishers")
    verdict = check(ledger)
    print(
        f"events={count} kills={ledger.kills} acked={len(ledger.acked)} "
        f"applied={len(ledger.applied)} ack_lost={len(ledger.ack_lost)} "
        f"cut_responses={ledger.cut_responses} redelivered={ledger.redelivered} "
        f"resets={len(ledger.resets)} lost={len(verdict.lost)} "
        f"unexplained_duplicates={len(verdict.unexplained_duplicates)} "
        f"out_of_order={verdict.out_of_order} -> {'OK' if verdict.ok else 'FAIL'}"
    )
    sys.exit(0 if verdict.ok else 1)


if __name__ == "__main__":
    main()
