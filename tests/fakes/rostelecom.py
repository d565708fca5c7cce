"""A fake Rostelecom Integration API (`https://api.cloudpbx.rt.ru:4443/<method>`).

Stands in for the real API, which cannot be reached from CI. Built from the
manual (seed 002 §10.6.3-10.6.4: POST with a JSON body, the method as the last
path segment, `X-Client-ID` and `X-Client-Sign = sha256hex(id + body + key)` on
every request) and the reply shape public integrations show (`result` "0" on
success, `resultMessage`, method fields such as `url`, `info`, `order_id`).
It checks each signature over the exact bytes received, refuses bad ones with 403
as the API does, and records what it accepted.
"""

from __future__ import annotations

import gzip
import json
import ssl
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from pbx.vpbx.signature import sign

HISTORY_CSV = (
    b"session_id;direction;state;orig_number;dest_number;start_call_date;duration\n"
    b"SID-1;1;1;79161234567;74951234567;2026-01-05 12:00:00;42\n"
)

DEFAULT_REPLIES: dict[str, Any] = {
    "call_back": {"result": "0", "resultMessage": "", "session_id": "CB-1"},
    "get_record": {"result": "0", "resultMessage": "", "url": "https://rec/x.mp3"},
    "call_info": {"result": "0", "info": {"session_id": "SID-1", "duration": 42}},
    "users_info": {"result": "0", "users": [{"name": "Иванов", "pin": "201"}]},
    "user_calls_charges": {"result": "0", "calls": []},
    "domain_call_history": {"result": "0", "resultMessage": "", "order_id": "ORD-7"},
    "download_call_history": gzip.compress(HISTORY_CSV),
    "restricting_user_outgoing_calls/get": {"result": "0", "restriction": 1},
    "restricting_user_outgoing_calls/set": {"result": "0", "resultMessage": ""},
}


@dataclass
class Received:
    method: str
    raw: bytes
    body: Any
    headers: dict[str, str]


@dataclass
class FakeRostelecomApi:
    client_id: str
    key: str
    replies: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_REPLIES))
    # Method -> HTTP status to answer instead of a reply.
    statuses: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{method:.+}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.read()
        expected = sign(self.client_id, raw, self.key)
        if (
            request.headers.get("X-Client-ID") != self.client_id
            or request.headers.get("X-Client-Sign") != expected
        ):
            self.refused.append(method)
            return web.json_response(
                {"result": "403", "resultMessage": "bad sign"}, status=403
            )
        body = json.loads(raw)
        self.received.append(Received(method, raw, body, dict(request.headers)))
        if method in self.statuses:
            return web.Response(status=self.statuses[method], text="failure")
        reply = self.replies.get(method)
        if reply is None:
            return web.json_response({"result": "404", "resultMessage": "no method"})
        if isinstance(reply, bytes):
            return web.Response(body=reply, content_type="application/gzip")
        return web.json_response(reply)


async def start(
    api: FakeRostelecomApi, ssl_context: ssl.SSLContext | None = None
) -> tuple[web.AppRunner, str]:
    """Serve `api` on 127.0.0.1:<ephemeral>; returns the runner and its base URL."""
    runner = web.AppRunner(api.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    scheme = "https" if ssl_context else "http"
    return runner, f"{scheme}://127.0.0.1:{port}"
