"""AMI reconnect and resync of live calls (issue 4: "within 2 s of reconnecting").

    .venv/bin/python -m bench.ami_resync [--calls N] [--rounds R]

A fake AMI server (tests/fakes/ami_server.py, the wire format of Asterisk's manager
interface) holds N live calls the adapter has not seen; the connection is dropped;
the adapter reconnects with its backoff, logs in and asks CoreShowChannels. Measured:
from the new login to the last resynced call event published, and from the drop.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from prometheus_client import CollectorRegistry

from bridge.clock import FakeClock
from pbx.asterisk.adapter import AsteriskAdapter
from pbx.config import AsteriskConfig
from tests.fakes.ami_server import FakeAmiServer
from tests.fakes.event_sink import RecordingSink


def live_calls(round_no: int, calls: int) -> list[dict[str, str]]:
    """Each call as Asterisk lists it: the trunk leg and the answering phone."""
    channels = []
    for i in range(calls):
        linkedid = f"17{round_no:04d}{i:04d}.1"
        channels += [
            {
                "Channel": f"PJSIP/trunk-{round_no:04d}{i:04d}",
                "Uniqueid": linkedid,
                "Linkedid": linkedid,
                "ChannelState": "6",
                "CallerIDNum": f"7916{round_no:03d}{i:04d}",
            },
            {
                "Channel": f"PJSIP/{200 + i % 50}-{round_no:04d}{i:04d}",
                "Uniqueid": f"17{round_no:04d}{i:04d}.2",
                "Linkedid": linkedid,
                "ChannelState": "6",
                "CallerIDNum": str(200 + i % 50),
            },
        ]
    return channels


async def run(calls: int, rounds: int) -> None:
    server = FakeAmiServer()
    await server.start()
    sink = RecordingSink()
    config = AsteriskConfig(
        host="127.0.0.1",
        port=server.port,
        username="telebridge",
        secret="s3cret",
    )
    adapter = AsteriskAdapter(config, FakeClock(), CollectorRegistry(), lambda: sink)
    task = asyncio.create_task(adapter.run())
    after_login: list[float] = []
    after_drop: list[float] = []
    try:
        async with asyncio.timeout(30):
            await server.logged_in.wait()
            # Let the first login's own resync finish before the rounds begin.
            while "ExtensionStateList" not in [a.get("Action") for a in server.actions]:  # noqa: ASYNC110 - the fake records actions, no event to await
                await asyncio.sleep(0.01)
        for round_no in range(rounds):
            server.channels = live_calls(round_no, calls)
            expected = len(sink.calls) + calls
            server.logged_in.clear()
            dropped = time.perf_counter()
            server.drop()
            async with asyncio.timeout(30):
                await server.logged_in.wait()
                logged_in = time.perf_counter()
                await sink.wait_for(expected)
            done = time.perf_counter()
            after_login.append((done - logged_in) * 1000)
            after_drop.append((done - dropped) * 1000)
    finally:
        await adapter.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await server.close()
    print(
        f"resync of {calls} live calls, {rounds} reconnects: login → last event "
        f"median {statistics.median(after_login):.1f} ms (max {max(after_login):.1f}); "
        f"drop → last event median {statistics.median(after_drop):.1f} ms "
        f"(max {max(after_drop):.1f}); target: within 2,000 ms of reconnecting"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.rounds))


if __name__ == "__main__":
    main()
