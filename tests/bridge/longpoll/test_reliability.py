"""The real `telebridge serve` SIGKILLed while events are published and consumer
connections drop mid-response; and stopped by SIGTERM with polls parked.

The size comes from TELEBRIDGE_TEST_RELIABILITY_EVENTS / _KILLS (CI: small; the
bench runs `python -m bench.longpoll_reliability 1000000 100`).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import aiohttp

from bench.longpoll_reliability import check, run
from bench.service_process import ServiceProcess, free_port, write_config

EVENTS = int(os.environ.get("TELEBRIDGE_TEST_RELIABILITY_EVENTS", "300"))
KILLS = int(os.environ.get("TELEBRIDGE_TEST_RELIABILITY_KILLS", "3"))


async def test_no_acknowledged_event_is_lost_across_sigkill(tmp_path: Path) -> None:
    ledger = await run(EVENTS, KILLS, tmp_path, drain_seconds=20, publishers=4)
    verdict = check(ledger)
    assert ledger.kills == KILLS
    assert len(ledger.acked) == EVENTS
    assert ledger.cut_responses > 0  # the drops really happened
    assert verdict.lost == []
    assert verdict.unexplained_duplicates == []
    assert verdict.out_of_order == 0
    assert ledger.resets == []  # retention kept everything: no gap to announce


async def test_sigterm_answers_parked_polls_and_stops_within_5_s(
    tmp_path: Path,
) -> None:
    port = free_port()
    svc = ServiceProcess(write_config(tmp_path, port), port)
    await svc.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                svc.url + "/api/v1/consumers",
                json={"name": "b", "kind": "onec"},
                headers=svc.admin,
            ) as resp:
                token = (await resp.json())["token"]
            auth = {"Authorization": f"Bearer {token}"}

            async def park() -> int:
                url = svc.url + "/api/v1/events?wait=50"
                async with session.get(url, headers=auth) as resp:
                    await resp.read()
                    return resp.status

            polls = [asyncio.create_task(park()) for _ in range(20)]
            async with session.get(svc.url + "/healthz") as resp:
                health = await resp.json()
            async with asyncio.timeout(10):
                while health["components"]["channels"]["data"]["parked_polls"] < 20:
                    async with session.get(svc.url + "/healthz") as resp:
                        health = await resp.json()
            loop = asyncio.get_running_loop()
            started = loop.time()
            code = await svc.terminate()
            stopped_in = loop.time() - started
            statuses = await asyncio.gather(*polls)
    finally:
        if svc.proc is not None:
            await svc.kill()
    assert code == 0
    assert stopped_in < 5
    assert statuses == [200] * 20  # answered (empty), not cut
