"""`python -m bridge.onec.demo` runs the demo 1C on its own, as operators start it."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time

import aiohttp

DEADLINE = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def get_when_up(url: str, auth: str = "") -> tuple[int, str]:
    deadline = time.monotonic() + DEADLINE
    headers = {"Authorization": auth} if auth else {}
    async with aiohttp.ClientSession(headers=headers) as http:
        while True:
            try:
                async with http.get(url) as resp:
                    return resp.status, await resp.text()
            except aiohttp.ClientConnectionError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)  # another process: poll under a deadline


async def test_standalone_demo_serves_odata_behind_basic_auth():
    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - a server for the test's duration
        [
            sys.executable,
            "-m",
            "bridge.onec.demo",
            "--port",
            str(port),
            "--counterparties",
            "20",
            "--password",
            "demo-pass",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/demo/odata/standard.odata/"
        status, _ = await get_when_up(base + "$metadata")
        assert status == 401
        status, body = await get_when_up(
            base + "Catalog_Контрагенты?$format=json&$top=2",
            aiohttp.encode_basic_auth("odata", "demo-pass"),
        )
        assert status == 200
        assert '"odata.metadata"' in body
    finally:
        proc.terminate()
        proc.wait(timeout=10)
