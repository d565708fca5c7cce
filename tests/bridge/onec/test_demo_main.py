"""`python -m bridge.onec.demo` runs the demo 1C on its own, as operators start it."""

from __future__ import annotations

import asyncio
import socket
import sys

import aiohttp

DEADLINE = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def listening(proc: asyncio.subprocess.Process) -> None:
    """aiohttp's run_app prints "Running on ..." once the port is bound."""
    assert proc.stdout is not None
    async with asyncio.timeout(DEADLINE):
        while line := await proc.stdout.readline():
            if b"Running on" in line:
                return
    raise AssertionError("the demo 1C exited before listening")


async def test_standalone_demo_serves_odata_behind_basic_auth() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge.onec.demo", "--port", str(port),
        "--counterparties", "20", "--password", "demo-pass",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await listening(proc)
        base = f"http://127.0.0.1:{port}/demo/odata/standard.odata/"
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "$metadata") as resp:
                assert resp.status == 401
            auth = {"Authorization": aiohttp.encode_basic_auth("odata", "demo-pass")}
            url = base + "Catalog_Контрагенты?$format=json&$top=2"
            async with http.get(url, headers=auth) as resp:
                assert resp.status == 200
                assert '"odata.metadata"' in await resp.text()
    finally:
        proc.terminate()
        async with asyncio.timeout(10):
            await proc.wait()
