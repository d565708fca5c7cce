"""Benchmarks of the events channel (issue 3; targets: research perf §6).

    .venv/bin/python -m bench.longpoll_channel targeted   # 2,000 parked, 100 ev/s
    .venv/bin/python -m bench.longpoll_channel broadcast  # 1,000 and 10,000 parked
    .venv/bin/python -m bench.longpoll_channel idle-rss   # 10,000 idle parked polls
    .venv/bin/python -m bench.longpoll_channel storm      # 1,000 re-poll after restart

Pollers are raw HTTP/1.1 keep-alive sockets (an aiohttp client session per poll
would cost the client more than the server); the broadcast's take their answers
in a protocol callback, lighter still. `targeted` runs the service in this
process so the publish is the in-process `EventSink` call; the others run the real
`telebridge serve` in a child process and publish with `POST /api/v1/events`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp

from bench.service_process import ADMIN_TOKEN, ServiceProcess, free_port, write_config
from bridge.config import Config
from bridge.longpoll.consumer_auth import ConsumerKind
from bridge.longpoll.consumers import ConsumerRegistry
from bridge.longpoll.event_log import EventLog
from bridge.longpoll.hub import EventHub
from bridge.service import running, tune_garbage_collector

_CONNECT_AT_ONCE = 200


class RawPoller:
    """One keep-alive connection doing GET /api/v1/events, byte by byte by hand."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port, self.token = host, port, token
        self.cursor = ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def send(self, wait: int, cursor: str | None = None, limit: int = 0) -> None:
        assert self.writer is not None
        at = self.cursor if cursor is None else cursor
        query = f"wait={wait}" + (f"&cursor={at}" if at else "")
        query += f"&limit={limit}" if limit else ""
        self.writer.write(
            f"GET /api/v1/events?{query} HTTP/1.1\r\nHost: bench\r\n"
            f"Authorization: Bearer {self.token}\r\n\r\n".encode()
        )

    async def receive_raw(self) -> tuple[int, bytes]:
        """Status and body, unparsed (a client that only checks, cheaply)."""
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        at = head.lower().index(b"content-length:") + len(b"content-length:")
        length = int(head[at : head.index(b"\r\n", at)])
        return status, await self.reader.readexactly(length)

    async def receive(self) -> tuple[int, dict[str, Any]]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = json.loads(await self.reader.readexactly(length)) if length else {}
        if status == 200:
            self.cursor = body["cursor"]
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def connect_all(pollers: list[RawPoller]) -> None:
    gate = asyncio.Semaphore(_CONNECT_AT_ONCE)

    async def one(p: RawPoller) -> None:
        async with gate:
            await p.connect()

    await asyncio.gather(*(one(p) for p in pollers))


async def first_cursor(pollers: list[RawPoller]) -> None:
    for p in pollers:
        p.send(0)
    await asyncio.gather(*(p.receive() for p in pollers))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values) * 1e3:.2f} ms, "
        f"p99 {pct(values, 0.99) * 1e3:.2f} ms, max {max(values) * 1e3:.2f} ms"
    )


# --- 1. targeted ---------------------------------------------------------------


async def targeted(parked: int = 2000, rate: float = 100, seconds: float = 10) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(
            http={"host": "127.0.0.1", "port": 0},
            crmd={"enabled": False},
            agi={"enabled": False},
            storage={"data_dir": tmp},
            auth={"admin_token": ADMIN_TOKEN},
            logging={"level": "warning"},
        )
        async with running(config) as (core, where):
            tune_garbage_collector()  # as `serve` does
            hub, registry = core.events, core.consumers
            assert isinstance(hub, EventHub)
            assert isinstance(registry, ConsumerRegistry)
            exts = [str(1000 + i) for i in range(parked)]
            tokens = [
                await registry.add(f"panel-{e}", ConsumerKind.PANEL, e) for e in exts
            ]
            pollers = [RawPoller(*where.http, t) for t in tokens]
            await connect_all(pollers)
            await first_cursor(pollers)
            by_ext = dict(zip(exts, pollers, strict=True))
            for p in pollers:
                p.send(50)
            await hub.until_parked(parked)
            latencies: list[float] = []
            publish_only: list[float] = []
            fan_out: list[float] = []
            committed = commit_times()
            interval = 1 / rate
            loop = asyncio.get_running_loop()
            next_at = loop.time()
            for _ in range(int(rate * seconds)):
                ext = random.choice(exts)
                poller = by_ext[ext]
                started = time.perf_counter()
                answered = asyncio.ensure_future(poller.receive())
                await hub.publish(
                    "bench.targeted", {"x": 1}, extensions=frozenset({ext})
                )
                publish_only.append(time.perf_counter() - started)
                status, body = await answered
                latencies.append(time.perf_counter() - started)
                assert status == 200
                assert len(body["events"]) == 1
                fan_out.append(time.perf_counter() - committed[-1])
                poller.send(50)
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - loop.time()))
            for p in pollers:
                p.close()
    print(
        f"targeted: {parked} parked panel polls, {rate:.0f} events/s, "
        f"{len(latencies)} events"
    )
    print(f"  publish() returned (durable commit): {ms(publish_only)}")
    print(f"  publish -> response bytes at the parked client: {ms(latencies)}")
    print(f"  of which commit -> bytes at the client (wake, answer): {ms(fan_out)}")


def commit_times() -> list[float]:
    """Record when each batch commit returned, to split commit from fan-out."""
    marks: list[float] = []
    append = EventLog.append

    async def timed(self: EventLog, batch: Any) -> Any:
        stored = await append(self, batch)
        marks.append(time.perf_counter())
        return stored

    EventLog.append = timed  # type: ignore[method-assign]
    return marks


# --- service in a child process ----------------------------------------------


async def with_service(
    body: Callable[[ServiceProcess, str], Awaitable[None]], extra: str = ""
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        svc = ServiceProcess(write_config(Path(tmp), port, extra), port)
        await svc.start()
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    svc.url + "/api/v1/consumers",
                    json={"name": "base1", "kind": "onec"},
                    headers=svc.admin,
                ) as resp,
            ):
                token = (await resp.json())["token"]
            await body(svc, token)
        finally:
            with contextlib.suppress(Exception):
                await svc.terminate()


async def parked_count(svc: ServiceProcess) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(svc.url + "/healthz") as resp,
    ):
        body = await resp.json()
    return int(body["components"]["channels"]["data"]["parked_polls"])


async def until_parked(svc: ServiceProcess, count: int) -> None:
    async with asyncio.timeout(120):
        while True:  # across processes: poll /healthz with a deadline
            if await parked_count(svc) >= count:
                return
            await asyncio.sleep(0.2)


async def publish(svc: ServiceProcess, session: aiohttp.ClientSession) -> None:
    async with session.post(
        svc.url + "/api/v1/events",
        json={"topic": "bench.broadcast", "data": {"x": 1}},
        headers=svc.admin,
    ) as resp:
        assert resp.status == 201, await resp.text()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used (user + system): unlike wall time, barely
    moved by other processes competing for the cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- 2. broadcast ----------------------------------------------------------------


class Arrivals:
    """Counts whole answers arriving on any connection; `all_in` resolves when
    the expected number has arrived."""

    def __init__(self) -> None:
        self.expected = 0
        self.all_in: asyncio.Future[float] | None = None

    def expect(self, count: int) -> asyncio.Future[float]:
        self.expected = count
        self.all_in = asyncio.get_running_loop().create_future()
        return self.all_in

    def arrived(self) -> None:
        self.expected -= 1
        if self.expected == 0 and self.all_in is not None:
            self.all_in.set_result(time.perf_counter())


class LightPoller(asyncio.Protocol):
    """A keep-alive poller that takes its answers in `data_received`: no task and
    no stream reader per connection. With 10,000 `RawPoller`s the bench's own
    reading took as much CPU as the service's answering, and was in the figure."""

    def __init__(self, token: str, arrivals: Arrivals) -> None:
        self.token, self.arrivals = token, arrivals
        self.cursor = ""
        self.answers: list[bytes] = []
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def send(self, wait: int) -> None:
        assert self._transport is not None
        query = f"wait={wait}" + (f"&cursor={self.cursor}" if self.cursor else "")
        self._transport.write(
            f"GET /api/v1/events?{query} HTTP/1.1\r\nHost: bench\r\n"
            f"Authorization: Bearer {self.token}\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            at = buffer.find(b"Content-Length: ", 0, end) + len(b"Content-Length: ")
            total = end + 4 + int(buffer[at : buffer.index(b"\r\n", at)])
            if len(buffer) < total:
                return
            self.answers.append(bytes(buffer[:total]))
            del buffer[:total]
            self.arrivals.arrived()

    def take(self) -> tuple[int, bytes]:
        """The answer that arrived: status, body; the cursor moves on."""
        raw = self.answers.pop()
        body = raw.split(b"\r\n\r\n", 1)[1]
        self.cursor = json.loads(body)["cursor"]
        return int(raw[9:12]), body

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def light_pollers(
    host: str, port: int, token: str, count: int, arrivals: Arrivals
) -> list[LightPoller]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(_CONNECT_AT_ONCE)
    pollers = [LightPoller(token, arrivals) for _ in range(count)]

    async def one(p: LightPoller) -> None:
        async with gate:
            await loop.create_connection(lambda: p, host, port)

    await asyncio.gather(*(one(p) for p in pollers))
    all_in = arrivals.expect(count)
    for p in pollers:
        p.send(0)
    await all_in
    for p in pollers:
        p.take()
    return pollers


async def broadcast(sizes: tuple[int, ...] = (1000, 10_000), rounds: int = 5) -> None:
    async def body(svc: ServiceProcess, token: str) -> None:
        host, port = "127.0.0.1", int(svc.url.rsplit(":", 1)[1])
        arrivals = Arrivals()
        for size in sizes:
            pollers = await light_pollers(host, port, token, size, arrivals)
            spans: list[float] = []
            cpu = 0.0
            async with aiohttp.ClientSession() as session:
                for _ in range(rounds):
                    for p in pollers:
                        p.send(50)
                    await until_parked(svc, size)
                    all_in = arrivals.expect(size)
                    started, cpu_before = time.perf_counter(), cpu_seconds(svc.pid)
                    await publish(svc, session)
                    spans.append(await all_in - started)
                    # Answers may be out before their handlers are done: count
                    # the CPU up to an answer to a request queued behind them.
                    await parked_count(svc)
                    cpu += cpu_seconds(svc.pid) - cpu_before
                    got = [p.take() for p in pollers]
                    assert all(s == 200 and b'"events":[{' in b for s, b in got)
            for p in pollers:
                p.close()
            print(
                f"broadcast to {size} parked polls (POST -> last client has it), "
                f"{rounds} rounds: median {statistics.median(spans) * 1e3:.1f} ms, "
                f"max {max(spans) * 1e3:.1f} ms; service CPU per answer "
                f"{cpu / (size * rounds) * 1e6:.0f} µs"
            )

    await with_service(body)


# --- 3. idle RSS -----------------------------------------------------------------


async def idle_rss(count: int = 10_000) -> None:
    async def body(svc: ServiceProcess, token: str) -> None:
        host, port = "127.0.0.1", int(svc.url.rsplit(":", 1)[1])
        warm = [RawPoller(host, port, token) for _ in range(200)]
        await connect_all(warm)
        await first_cursor(warm)  # allocate per-request machinery once
        for p in warm:
            p.close()
        before = rss_kb(svc.pid)
        pollers = [RawPoller(host, port, token) for _ in range(count)]
        await connect_all(pollers)
        await first_cursor(pollers)
        for p in pollers:
            p.send(50)
        await until_parked(svc, count)
        after = rss_kb(svc.pid)
        per = (after - before) / count
        print(
            f"idle: {count} parked polls, service RSS {before} KB -> {after} KB: "
            f"{per:.2f} KB per parked poll (incl. its connection)"
        )
        for p in pollers:
            p.close()

    await with_service(body)


# --- 4. reconnect storm ----------------------------------------------------------


async def storm(clients: int = 1000, backlog: int = 5000, limit: int = 0) -> None:
    async def body(svc: ServiceProcess, token: str) -> None:
        host, port = "127.0.0.1", int(svc.url.rsplit(":", 1)[1])
        pollers = [RawPoller(host, port, token) for _ in range(clients)]
        await connect_all(pollers)
        await first_cursor(pollers)
        async with aiohttp.ClientSession() as session:
            sem = asyncio.Semaphore(50)

            async def one() -> None:
                async with sem:
                    await publish(svc, session)

            await asyncio.gather(*(one() for _ in range(backlog)))
        # Clients are at various points of the backlog when the service restarts.
        head = pollers[0]
        head.send(0)
        await head.receive()
        start_seq = int(pollers[1].cursor.split(".")[1])
        end_seq = int(head.cursor.split(".")[1])
        epoch = head.cursor.split(".")[0]
        cursors = [f"{epoch}.{random.randint(start_seq, end_seq)}" for _ in pollers]
        for p in pollers:
            p.close()
        await svc.terminate()
        await svc.start()
        fresh = [RawPoller(host, port, token) for _ in range(clients)]
        latencies: list[float] = []
        errors = 0

        async def reconnect(p: RawPoller, cursor: str) -> None:
            nonlocal errors
            await asyncio.sleep(random.random())  # all within one second
            started = time.perf_counter()
            try:
                await p.connect()
                p.send(0, cursor, limit)
                status, batch = await p.receive()
            except (OSError, asyncio.IncompleteReadError):
                errors += 1
                return
            latencies.append(time.perf_counter() - started)
            seq = int(cursor.split(".")[1])
            if (
                status != 200
                or "reset" in batch
                or (seq < end_seq and not batch["events"])
            ):
                errors += 1

        began = time.perf_counter()
        await asyncio.gather(
            *(reconnect(p, c) for p, c in zip(fresh, cursors, strict=True))
        )
        total = time.perf_counter() - began
        for p in fresh:
            p.close()
        print(
            f"storm: {clients} clients re-poll within 1 s of a restart from their "
            f"cursors ({backlog} events in the log): all answered in {total:.2f} s, "
            f"errors {errors}; per request {ms(latencies)}"
        )

    await with_service(body)


MODES: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
    "targeted": targeted,
    "broadcast": broadcast,
    "idle-rss": idle_rss,
    "storm": storm,
}


def main() -> None:
    modes = sys.argv[1:] or list(MODES)
    for mode in modes:
        asyncio.run(MODES[mode]())


if __name__ == "__main__":
    main()
