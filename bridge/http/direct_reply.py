"""Answers written straight to waiting connections, past aiohttp's response path.

One event can wake 10,000 parked long-polls (issue 3). Through aiohttp's handler →
response → prepare → write_eof path each answer costs tens of µs before its bytes
leave; here the bytes of a 200 JSON answer are built once per body and written to
every waiting connection in one loop. The handler then returns a `SentResponse`,
which tells aiohttp the answer is out: it writes nothing, and the connection goes
on to its next request as after any answer (keep-alive).

The bytes are those aiohttp writes for `web.Response(body=..., content_type=
"application/json")` through `service_middleware`, request id included. Only
requests whose answer needs nothing more take this path (`DirectReply.for_request`):
GET over HTTP/1.1 with keep-alive, a request id that is safe to echo, no
`on_response_prepare` hooks; a connection closed by the time of the answer is
skipped. Everything else is answered the normal way.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import hdrs, web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11

from bridge.http.middleware import REQUEST_ID_HEADER, current_request_id

_HEAD = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{REQUEST_ID_HEADER}: "


class DirectReply:
    """A parked request that can take its answer as bytes on its connection."""

    __slots__ = ("_request", "_request_id", "sent")

    def __init__(self, request: web.Request, request_id: str) -> None:
        self._request = request
        self._request_id = request_id
        self.sent = 0  # bytes written for it, once answered

    @classmethod
    def for_request(cls, request: web.Request) -> DirectReply | None:
        """A reply for `request`, or None when its answer must take the normal
        path (whose headers would differ, or that runs hooks)."""
        request_id = current_request_id()
        if (
            request.method != hdrs.METH_GET  # HEAD: the same headers, no body
            or request.version != HttpVersion11
            or not request.keep_alive
            or any(app.on_response_prepare for app in request.match_info.apps)
            or not request_id  # no service_middleware: no X-Request-Id either
            or not request_id.isprintable()
        ):
            return None
        return cls(request, request_id)

    def response(self) -> SentResponse:
        """What the handler returns for an answer already sent."""
        return SentResponse(self._request.writer, self.sent)


def send_json(body: bytes, replies: Sequence[DirectReply]) -> None:
    """Write a 200 `application/json` answer with `body` to each reply's
    connection, now; marks the replies it reached as sent."""
    head = _HEAD.encode()
    rest = (
        f"\r\nContent-Length: {len(body)}\r\nDate: {rfc822_formatted_time()}"
        f"\r\nServer: {SERVER_SOFTWARE}\r\n\r\n"
    ).encode() + body
    for reply in replies:
        transport = reply._request.transport
        if transport is None or transport.is_closing():
            continue  # gone: the handler's normal answer meets the closed connection
        # Encoded here, not at park time: 10,000 parked polls, 10,000 more objects.
        data = head + reply._request_id.encode() + rest
        transport.write(data)
        reply.sent = len(data)


class SentResponse(web.StreamResponse):
    """A 200 whose bytes `send_json` already wrote: prepared, kept alive, and
    writing nothing more. Waits for the connection to drain like any answer."""

    def __init__(self, writer: AbstractStreamWriter, length: int) -> None:
        super().__init__()
        self._writer = writer
        self._length = length

    @property
    def prepared(self) -> bool:
        return True

    @property
    def keep_alive(self) -> bool:
        return True

    @property
    def body_length(self) -> int:
        return self._length

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        await self._writer.drain()
