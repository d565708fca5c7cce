"""Parked polls answered straight on their connections when an event wakes them.

Real HTTP over sockets against the whole service. Each test records what the hub
handed to `answer_early`, so it knows which answers took the direct path, and
checks them against what the normal path (a poll that is not parked) answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest

from bridge.http import direct_reply
from bridge.http.direct_reply import DirectReply
from bridge.longpoll.consumer_auth import ConsumerKind
from bridge.longpoll.consumers import ConsumerRegistry
from bridge.longpoll.hub import EventHub, PollAnswer
from tests.conftest import RunningService

_DATE = re.compile(
    rb"\r\nDate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT"
)


class Conn:
    """One client connection speaking HTTP by hand, so its bytes can be compared."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    def get(
        self, query: str, token: str, *, version: str = "1.1", extra: str = ""
    ) -> None:
        self.writer.write(
            f"GET /api/v1/events?{query} HTTP/{version}\r\nHost: test\r\n"
            f"Authorization: Bearer {token}\r\n{extra}\r\n".encode()
        )

    async def response(self) -> bytes:
        """One whole response, raw (its Content-Length says where it ends)."""
        async with asyncio.timeout(5):
            head = await self.reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"\r\nContent-Length: (\d+)", head)[1])  # type: ignore[index]
            return head + await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


def body(raw: bytes) -> dict[str, Any]:
    return json.loads(raw.split(b"\r\n\r\n", 1)[1])  # type: ignore[no-any-return]


def undated(raw: bytes) -> bytes:
    """The response without its Date value (the two compared may straddle a second)."""
    assert _DATE.search(raw), raw
    return _DATE.sub(b"\r\nDate: -", raw)


class Recorder:
    """Wraps the hub's `answer_early`: the answers and replies of each wake-up."""

    def __init__(self, hub: EventHub) -> None:
        self.calls: list[tuple[PollAnswer, list[DirectReply]]] = []
        self._send = hub.answer_early
        assert self._send is not None
        hub.answer_early = self

    def __call__(self, answer: PollAnswer, replies: list[DirectReply]) -> None:
        assert self._send is not None
        self.calls.append((answer, list(replies)))
        self._send(answer, replies)

    @property
    def sent(self) -> int:
        return sum(1 for _, replies in self.calls for r in replies if r.sent)


Connect = Callable[[], Awaitable[Conn]]


@pytest.fixture
async def connect(service: RunningService) -> AsyncIterator[Connect]:
    """Opens client connections to the service; all closed at the end."""
    opened: list[Conn] = []

    async def open_one() -> Conn:
        opened.append(Conn(*await asyncio.open_connection(*service.where.http)))
        return opened[-1]

    yield open_one
    for conn in opened:
        await conn.close()


@pytest.fixture
def hub(service: RunningService) -> EventHub:
    hub = service.core.events
    assert isinstance(hub, EventHub)
    return hub


async def consumer(
    service: RunningService, name: str, extension: str | None = None
) -> str:
    registry = service.core.consumers
    assert isinstance(registry, ConsumerRegistry)
    kind = ConsumerKind.ONEC if extension is None else ConsumerKind.PANEL
    return await registry.add(name, kind, extension or "")


async def parked(hub: EventHub, count: int) -> None:
    async with asyncio.timeout(5):
        await hub.until_parked(count)


async def cursor_now(conn: Conn, token: str) -> str:
    conn.get("wait=0", token)
    return str(body(await conn.response())["cursor"])


async def test_a_direct_answer_has_the_bytes_of_the_normal_one(
    service: RunningService, hub: EventHub, connect: Connect
) -> None:
    token = await consumer(service, "base1")
    waiting, other = await connect(), await connect()
    start = await cursor_now(waiting, token)
    recorder = Recorder(hub)
    rid = "X-Request-Id: same-id-1\r\n"
    waiting.get(f"cursor={start}&wait=30", token, extra=rid)
    await parked(hub, 1)
    await hub.publish("test.one", {"n": 1, "text": "привет"})
    direct = await waiting.response()
    other.get(f"cursor={start}&wait=30", token, extra=rid)  # answers at once
    normal = await other.response()
    assert recorder.sent == 1
    assert undated(direct) == undated(normal)
    assert [e["data"] for e in body(direct)["events"]] == [{"n": 1, "text": "привет"}]


async def test_a_direct_answer_carries_a_generated_request_id(
    service: RunningService, hub: EventHub, connect: Connect
) -> None:
    token = await consumer(service, "base1")
    conn = await connect()
    start = await cursor_now(conn, token)
    recorder = Recorder(hub)
    conn.get(f"cursor={start}&wait=30", token)
    await parked(hub, 1)
    await hub.publish("test.one", {})
    raw = await conn.response()
    assert recorder.sent == 1
    assert re.search(rb"\r\nX-Request-Id: [0-9a-f]{32}\r\n", raw), raw


async def test_the_connection_stays_alive_after_a_direct_answer(
    service: RunningService, hub: EventHub, connect: Connect
) -> None:
    token = await consumer(service, "base1")
    conn = await connect()
    cursor = await cursor_now(conn, token)
    recorder = Recorder(hub)
    seen = []
    for n in range(3):  # parked, answered directly, and again on the same socket
        conn.get(f"cursor={cursor}&wait=30", token)
        await parked(hub, 1)
        await hub.publish("test.n", {"n": n})
        raw = await conn.response()
        assert raw.startswith(b"HTTP/1.1 200 OK\r\n")  # nothing more after the last
        seen += [e["data"]["n"] for e in body(raw)["events"]]
        cursor = body(raw)["cursor"]
    conn.get(f"cursor={cursor}&wait=0", token)  # and the normal path after them
    raw = await conn.response()
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
    assert body(raw)["events"] == []
    assert seen == [0, 1, 2]
    assert recorder.sent == 3


async def test_a_client_gone_before_the_event_does_not_stop_the_others(
    service: RunningService,
    hub: EventHub,
    connect: Connect,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = await consumer(service, "base1")
    replies: list[DirectReply] = []
    make = DirectReply.for_request

    def recording(request: Any) -> DirectReply | None:
        reply = make(request)
        assert reply is not None
        replies.append(reply)
        return reply

    monkeypatch.setattr(DirectReply, "for_request", staticmethod(recording))
    gone, stays = await connect(), await connect()
    start = await cursor_now(stays, token)
    recorder = Recorder(hub)
    gone.get(f"cursor={start}&wait=30", token)
    await parked(hub, 1)
    stays.get(f"cursor={start}&wait=30", token)
    await parked(hub, 2)
    gone_reply, stays_reply = replies[-2:]
    await gone.close()
    transport = gone_reply._request.transport
    async with asyncio.timeout(5):
        # In-process, the server sees the close on its own loop: yield to it.
        while transport is not None and not transport.is_closing():  # noqa: ASYNC110
            await asyncio.sleep(0)
    await hub.publish("test.one", {"n": 1})
    answer = body(await stays.response())
    assert [e["data"] for e in answer["events"]] == [{"n": 1}]
    assert (gone_reply.sent, stays_reply.sent > 0) == (0, True)
    assert {id(r) for r in recorder.calls[0][1]} == {id(gone_reply), id(stays_reply)}
    # The service goes on: a new client on a new connection is answered.
    fresh = await connect()
    fresh.get(f"cursor={start}&wait=0", token)
    assert len(body(await fresh.response())["events"]) == 1


async def test_panels_get_only_their_extension_directly(
    service: RunningService, hub: EventHub, connect: Connect
) -> None:
    base = await consumer(service, "base1")
    p102, p103 = [await consumer(service, f"panel-{e}", e) for e in ("102", "103")]
    conns = {name: await connect() for name in ("base", "102", "103")}
    tokens = {"base": base, "102": p102, "103": p103}
    recorder = Recorder(hub)
    for n, (name, conn) in enumerate(conns.items(), 1):
        conn.get(f"cursor={await cursor_now(conn, tokens[name])}&wait=30", tokens[name])
        await parked(hub, n)
    await hub.publish("test.ext", {"for": "102"}, extensions=frozenset({"102"}))
    for name in ("base", "102"):
        got = body(await conns[name].response())
        assert [e["data"] for e in got["events"]] == [{"for": "102"}]
    assert recorder.sent == 2
    # 103 was not woken: its answer is the next event for it, and only that.
    await hub.publish("test.ext", {"for": "103"}, extensions=frozenset({"103"}))
    got = body(await conns["103"].response())
    assert [e["data"] for e in got["events"]] == [{"for": "103"}]
    assert recorder.sent == 3


async def test_polls_at_different_cursors_and_limits_each_get_their_own_answer(
    service: RunningService, hub: EventHub, connect: Connect
) -> None:
    base = await consumer(service, "base1")
    early, late = [await consumer(service, f"panel-102-{n}", "102") for n in (1, 2)]
    conns = [await connect() for _ in range(4)]
    start = await cursor_now(conns[0], base)
    # A panel parks at `start`; an event for another extension moves the head
    # without waking it; a second panel parks after that event.
    conns[0].get(f"cursor={start}&wait=30", early)
    await parked(hub, 1)
    await hub.publish("test.other", {}, extensions=frozenset({"103"}))
    conns[1].get(f"cursor={start}&wait=30", late)
    await parked(hub, 2)
    # Two 1C polls at the head, one taking a single event per answer.
    head = await cursor_now(conns[2], base)
    queries = [
        (early, f"cursor={start}"),
        (late, f"cursor={start}"),
        (base, f"cursor={head}&limit=1"),
        (base, f"cursor={head}"),
    ]
    for conn, (token, query) in zip(conns[2:], queries[2:], strict=True):
        conn.get(f"{query}&wait=30", token)
    await parked(hub, 4)
    recorder = Recorder(hub)
    await asyncio.gather(  # one commit, so one wake-up with both events
        hub.publish("test.a", {"n": 1}, extensions=frozenset({"102"})),
        hub.publish("test.b", {"n": 2}, extensions=frozenset({"102"})),
    )
    direct = [body(await c.response()) for c in conns]
    assert [[e["data"]["n"] for e in a["events"]] for a in direct] == [
        [1, 2],
        [1, 2],
        [1],
        [1, 2],
    ]
    assert direct[2]["cursor"] == direct[2]["events"][0]["id"]
    assert recorder.sent == 4
    assert len(recorder.calls) == 4  # one per (extension, cursor, limit)
    assert len({(a.cursor, len(a.events)) for a, _ in recorder.calls}) == 2
    # Each is what the normal path answers for the same poll.
    again = await connect()
    for answer, (token, query) in zip(direct, queries, strict=True):
        again.get(f"{query}&wait=0", token)
        assert body(await again.response()) == answer


@pytest.mark.parametrize(
    ("version", "extra"),
    [("1.0", ""), ("1.1", "Connection: close\r\n")],
)
async def test_clients_that_close_after_the_answer_take_the_normal_path(
    service: RunningService,
    hub: EventHub,
    connect: Connect,
    version: str,
    extra: str,
) -> None:
    token = await consumer(service, "base1")
    conn = await connect()
    start = await cursor_now(conn, token)
    conn = await connect()
    recorder = Recorder(hub)
    conn.get(f"cursor={start}&wait=30", token, version=version, extra=extra)
    await parked(hub, 1)
    await hub.publish("test.one", {"n": 1})
    raw = await conn.reader.read()  # the server closes the connection after it
    assert raw.startswith(f"HTTP/{version} 200 OK\r\n".encode())
    assert [e["data"] for e in body(raw)["events"]] == [{"n": 1}]
    if version == "1.1":
        assert b"\r\nConnection: close\r\n" in raw
    assert recorder.calls == []


async def test_a_head_poll_takes_the_normal_path_and_gets_no_body(
    service: RunningService, hub: EventHub, connect: Connect
) -> None:
    token = await consumer(service, "base1")
    conn = await connect()
    start = await cursor_now(conn, token)
    recorder = Recorder(hub)
    conn.writer.write(
        f"HEAD /api/v1/events?cursor={start}&wait=30 HTTP/1.1\r\nHost: test\r\n"
        f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    await parked(hub, 1)
    await hub.publish("test.one", {"n": 1})
    async with asyncio.timeout(5):
        head = await conn.reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert recorder.calls == []
    # No body came after the head: the next answer on the connection starts at once.
    conn.get(f"cursor={start}&wait=0", token)
    raw = await conn.response()
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
    assert [e["data"] for e in body(raw)["events"]] == [{"n": 1}]


async def test_a_request_id_not_safe_to_echo_as_is_takes_the_normal_path(
    service: RunningService, hub: EventHub, connect: Connect
) -> None:
    token = await consumer(service, "base1")
    conn = await connect()
    start = await cursor_now(conn, token)
    recorder = Recorder(hub)
    conn.get(f"cursor={start}&wait=30", token, extra="X-Request-Id: a\tb\r\n")
    await parked(hub, 1)
    await hub.publish("test.one", {"n": 1})
    raw = await conn.response()
    assert b"\r\nX-Request-Id: a\tb\r\n" in raw
    assert recorder.calls == []


async def test_when_sending_directly_fails_the_handler_answers_the_normal_way(
    service: RunningService,
    hub: EventHub,
    connect: Connect,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(body: bytes, replies: Sequence[DirectReply]) -> None:
        raise RuntimeError("no bytes today")

    monkeypatch.setattr(direct_reply, "send_json", broken)
    token = await consumer(service, "base1")
    conn = await connect()
    start = await cursor_now(conn, token)
    conn.get(f"cursor={start}&wait=30", token)
    await parked(hub, 1)
    async with asyncio.timeout(5):
        await hub.publish("test.one", {"n": 1})
    raw = await conn.response()
    assert [e["data"] for e in body(raw)["events"]] == [{"n": 1}]
    assert "sending 1 early answers failed" in caplog.text
    # The hub's writer lives on: the next event is stored and delivered.
    conn.get(f"cursor={body(raw)['cursor']}&wait=30", token)
    await parked(hub, 1)
    async with asyncio.timeout(5):
        await hub.publish("test.two", {"n": 2})
    assert [e["data"] for e in body(await conn.response())["events"]] == [{"n": 2}]
