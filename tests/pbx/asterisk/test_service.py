"""The whole service (real sockets) with the Asterisk adapter on, against the fake
AMI server (tests/fakes/ami_server.py stands in for Asterisk's manager interface)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp

from bridge.service import running
from tests.conftest import make_config
from tests.fakes.ami_frames import wire_bytes
from tests.fakes.ami_server import FakeAmiServer
from tests.fakes.event_sink import RecordingSink
from tests.fakes.polling import until
from tests.pbx.asterisk.test_agi import agi_call, env_for


async def test_service_publishes_ami_calls_and_reports_pbx_health(
    tmp_path: Path,
) -> None:
    ami = FakeAmiServer()
    await ami.start()
    agi_port = free_port()
    config = make_config(
        tmp_path,
        asterisk={
            "host": "127.0.0.1",
            "port": ami.port,
            "username": "telebridge",
            "secret": "s3cret",
        },
        agi={"port": agi_port},
    )
    sink = RecordingSink()

    async def resync_asked() -> bool:
        return any(a.get("Action") == "CoreShowChannels" for a in ami.actions)

    try:
        async with running(config) as (core, where):
            core.events = sink  # the long-poll hub's place
            async with asyncio.timeout(5):
                await ami.logged_in.wait()
                await until(resync_asked)
                await ami.push(wire_bytes("queue_agent"))
                events = await sink.wait_for(3)
                # The FastAGI server is up with the app (no contact index: no name).
                agi_commands = await agi_call(
                    ("127.0.0.1", agi_port), env_for("79161234567")
                )
            url = "http://{}:{}/healthz".format(*where.http)
            async with aiohttp.ClientSession() as http, http.get(url) as resp:
                health = await resp.json()
    finally:
        await ami.close()
    assert [e.extra.get("queue") for e in events] == ["support"] * 3
    assert health["components"]["pbx"]["state"] == "ok"
    assert agi_commands == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
