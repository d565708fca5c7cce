"""Benchmark 5: contact request round trip (asker -> 1C consumer -> asker).

Target (perf-reliability-anchors §6): bridge overhead p99 <= 10 ms.

The whole service runs on real sockets; a fake 1C consumer long-polls
`/api/v1/contacts/requests` over HTTP and answers each request at once with
`POST /api/v1/contacts/responses`, so the "1C" think time is zero and everything
measured is transport + bridge. Three measurements in one run:

- relay:    the PBX's path, `GET /getcallerid` on the crmd listener relayed to 1C
            (PBX HTTP hop + 1C poll answer + 1C answer POST);
- local:    the same `GET /getcallerid` answered by an instant local index, the
            baseline PBX hop without the channel;
- ask:      `ContactChannel.ask()` in process (asker -> 1C over HTTP -> asker).

overhead = relay - local (per-percentile), i.e. what the channel adds to the
PBX's request. The fake 1C runs in the same process and event loop as the
service, so its own client work is counted in too (conservative).

    .venv/bin/python -m bench.contact_roundtrip [--count 2000] [--concurrency 1]
                                                [--consumers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from bridge.config import Config
from bridge.contacts import ContactMatch, ContactOwner
from bridge.longpoll.broker import Answered, RequestKind
from bridge.longpoll.consumer_auth import Consumer, ConsumerKind
from bridge.service import running

NUMBER = "+79161234567"
LOCAL_NUMBER = "+79997654321"
TARGET_P99_MS = 10.0
TOKEN = "bench-1c-token"  # noqa: S105 - a throwaway token for the benchmark


class OneConsumer:
    async def authenticate(self, token: str) -> Consumer | None:
        return Consumer("bench-1c", ConsumerKind.ONEC) if token == TOKEN else None

    async def issue_panel_token(self, extension: str, user_id: str) -> str:
        raise NotImplementedError


class InstantIndex:
    async def lookup(self, number: str) -> ContactMatch | None:
        if number != LOCAL_NUMBER:
            return None
        return ContactMatch(
            number, (ContactOwner("r", "Catalog_Контрагенты", "Ромашка"),)
        )


async def fake_onec(
    session: aiohttp.ClientSession, url: str, parked: asyncio.Event
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body = {"data": {"caller_id": "Иванов", "client": "ООО Ромашка"}}
    while True:
        parked.set()
        async with session.get(
            f"{url}/api/v1/contacts/requests", params={"wait": "25"}, headers=headers
        ) as r:
            batch = await r.json()
        for request in batch["requests"]:
            async with session.post(
                f"{url}/api/v1/contacts/responses",
                json={"id": request["id"], **body},
                headers=headers,
            ) as r:
                assert r.status == 200, await r.text()


async def timed_get(session: aiohttp.ClientSession, url: str, number: str) -> float:
    started = time.perf_counter()
    async with session.get(f"{url}/getcallerid", params={"number": number}) as r:
        body = await r.json()
    elapsed = time.perf_counter() - started
    assert body["result"] == "Success", body
    return elapsed


async def measure(
    count: int, concurrency: int, step: Callable[[], Awaitable[float]]
) -> list[float]:
    samples: list[float] = []
    per_worker = count // concurrency

    async def worker() -> None:
        for _ in range(per_worker):
            elapsed = await step()
            samples.append(elapsed)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def summary(name: str, samples: list[float]) -> dict[str, float]:
    result = {
        "p50": statistics.median(samples) * 1000,
        "p99": pct(samples, 0.99),
        "max": max(samples) * 1000,
    }
    print(
        f"{name:8s} n={len(samples):5d}  p50={result['p50']:.2f} ms  "
        f"p99={result['p99']:.2f} ms  max={result['max']:.2f} ms"
    )
    return result


async def main(count: int, concurrency: int, consumers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(
            http={"host": "127.0.0.1", "port": 0},
            crmd={"host": "127.0.0.1", "port": 0},
            storage={"data_dir": str(Path(tmp) / "var")},
            auth={"admin_token": "bench-admin-token"},
            logging={"level": "warning"},
        )
        async with running(config) as (core, where):
            core.consumers = OneConsumer()
            core.contacts = InstantIndex()
            url = "http://{}:{}".format(*where.http)
            crmd = "http://{}:{}".format(*where.crmd or ("", 0))
            channel = core.contact_channel
            assert channel is not None
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector) as session:
                parked = [asyncio.Event() for _ in range(consumers)]
                onecs = [
                    asyncio.create_task(fake_onec(session, url, event))
                    for event in parked
                ]
                await asyncio.wait_for(asyncio.gather(*(e.wait() for e in parked)), 5)

                async def relay() -> float:
                    return await timed_get(session, crmd, NUMBER)

                async def local() -> float:
                    return await timed_get(session, crmd, LOCAL_NUMBER)

                async def ask() -> float:
                    started = time.perf_counter()
                    outcome = await channel.ask(
                        RequestKind.CALLER_ID, {"number": "1"}, 5
                    )
                    assert isinstance(outcome, Answered), outcome
                    return time.perf_counter() - started

                await measure(200, 1, relay)  # warm-up
                await measure(200, 1, local)
                print(
                    f"count={count} concurrency={concurrency} 1C consumers={consumers}"
                    " (1C answers at once)"
                )
                results = {}
                # Interleave the rounds so machine noise hits all three alike.
                rounds = 4
                samples: dict[str, list[float]] = {"relay": [], "local": [], "ask": []}
                for _ in range(rounds):
                    for name, step in (
                        ("relay", relay),
                        ("local", local),
                        ("ask", ask),
                    ):
                        samples[name] += await measure(
                            count // rounds, concurrency, step
                        )
                for name in ("relay", "local", "ask"):
                    results[name] = summary(name, samples[name])
                over50 = results["relay"]["p50"] - results["local"]["p50"]
                over99 = results["relay"]["p99"] - results["local"]["p99"]
                verdict = "PASS" if over99 <= TARGET_P99_MS else "FAIL"
                print(
                    f"overhead (relay - local): p50={over50:.2f} ms  "
                    f"p99={over99:.2f} ms  target p99 <= 10 ms: {verdict}"
                )
                for task in onecs:
                    task.cancel()
                await asyncio.gather(*onecs, return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--consumers", type=int, default=1, help="polling 1C jobs")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.concurrency, args.consumers))
