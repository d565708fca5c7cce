"""Rostelecom webhooks: how fast a call_events body is verified and mapped, and how
long get_number_info takes over real HTTP against its answer budget.

    .venv/bin/python -m bench.vpbx_webhooks

Prints medians of several rounds. The machine may be shared: read the spread.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from bridge.call_events import CallEvent
from bridge.clock import SystemClock
from bridge.config import Config
from bridge.contacts import ContactMatch, ContactOwner
from bridge.core import Core
from bridge.service import running
from pbx.config import VpbxConfig
from pbx.vpbx.guard import Credentials, WebhookGuard
from pbx.vpbx.http import parse
from pbx.vpbx.mapping import to_call_event
from pbx.vpbx.models import CallEventPayload
from pbx.vpbx.signature import sign

CLIENT_ID = "1874BAB574D929ECDD7C2880185FBF69"
KEY = "259D87F014309CD190E91AC53C9C39E0"
ROUNDS = 5
BODIES = 20_000
REQUESTS = 1_000
ZONE = ZoneInfo("Europe/Moscow")


def bodies(n: int) -> list[bytes]:
    states = ("new", "calling", "connected", "disconnected", "end")
    return [
        json.dumps(
            {
                "session_id": f"SID-{i // 5}",
                "state": states[i % 5],
                "type": "incoming",
                "timestamp": f"2026-01-05 12:{(i // 60) % 60:02d}:{i % 60:02d}.123",
                "from_number": f"sip:7916{i % 10_000_000:07d}@cloudpbx.rt.ru",
                "request_number": "74951234567",
                "request_pin": str(200 + i % 50),
            }
        ).encode()
        for i in range(n)
    ]


def pipeline_rate() -> float:
    """Verify + parse + validate + map, per second, one core, no HTTP."""
    guard = WebhookGuard(VpbxConfig(client_id=CLIENT_ID, sign_key=KEY), SystemClock())
    signed = [(b, sign(CLIENT_ID, b, KEY)) for b in bodies(BODIES)]
    received = SystemClock().now()
    started = time.perf_counter()
    for body, signature in signed:
        assert guard.check(
            Credentials("127.0.0.1", CLIENT_ID, signature, body)
        ).accepted
        payload = parse(body, CallEventPayload)
        assert to_call_event(payload, zone=ZONE, received=received).event is not None
    return BODIES / (time.perf_counter() - started)


class NullSink:
    async def publish_call(self, event: CallEvent) -> str:
        return event.call_id

    async def publish(self, topic: str, data: dict[str, Any], **_: Any) -> str:
        return topic


class Directory:
    async def lookup(self, number: str) -> ContactMatch | None:
        owner = ContactOwner("ref", "Catalog_Контрагенты", "ООО Ромашка")
        return ContactMatch(number, (owner,))


async def http_round(core: Core, base: str) -> tuple[float, float, float]:
    """get_number_info latency p50 / p99 (ms) and call_events per second."""
    info = json.dumps({"from_number": "+79161234567"}).encode()
    info_headers = {
        "X-Client-ID": CLIENT_ID,
        "X-Client-Sign": sign(CLIENT_ID, info, KEY),
    }
    latencies = []
    async with aiohttp.ClientSession() as http:
        for _ in range(REQUESTS):
            started = time.perf_counter()
            async with http.post(
                f"{base}/vpbx/get_number_info", data=info, headers=info_headers
            ) as resp:
                assert resp.status == 200
                await resp.read()
            latencies.append(time.perf_counter() - started)
        events = [(b, sign(CLIENT_ID, b, KEY)) for b in bodies(REQUESTS)]
        started = time.perf_counter()
        for body, signature in events:
            headers = {"X-Client-ID": CLIENT_ID, "X-Client-Sign": signature}
            async with http.post(
                f"{base}/vpbx/call_events", data=body, headers=headers
            ) as resp:
                assert resp.status == 200
        rate = REQUESTS / (time.perf_counter() - started)
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000, rate


async def http_rounds() -> list[tuple[float, float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(
            http={"host": "127.0.0.1", "port": 0},
            crmd={"enabled": False},
            storage={"data_dir": str(Path(tmp))},
            auth={"admin_token": "bench-admin-token-0123456789"},
            vpbx={"client_id": CLIENT_ID, "sign_key": KEY},
        )
        async with running(config) as (core, where):
            core.events = NullSink()
            core.contacts = Directory()
            base = "http://{}:{}".format(*where.http)
            return [await http_round(core, base) for _ in range(ROUNDS)]


def main() -> None:
    rates = [pipeline_rate() for _ in range(ROUNDS)]
    print(
        f"call_events verify+parse+map: median {statistics.median(rates):,.0f}/s "
        f"(min {min(rates):,.0f}, max {max(rates):,.0f}; {BODIES} bodies x {ROUNDS})"
    )
    rounds = asyncio.run(http_rounds())
    p50 = statistics.median(r[0] for r in rounds)
    p99 = statistics.median(r[1] for r in rounds)
    rate = statistics.median(r[2] for r in rounds)
    budget = VpbxConfig().number_info_budget_seconds * 1000
    print(
        f"get_number_info over HTTP: median p50 {p50:.2f} ms, p99 {p99:.2f} ms "
        f"(budget {budget:.0f} ms; {REQUESTS} sequential requests x {ROUNDS})"
    )
    print(f"call_events over HTTP, sequential, null sink: median {rate:,.0f}/s")


if __name__ == "__main__":
    main()
