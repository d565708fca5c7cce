"""Middlewares: a request id on every request and log line, one error shape, and
the request count.

The service's app takes all three as one middleware, `service_middleware`: a parked
long-poll holds its middlewares' frames for up to 50 s, and at 10,000 parked polls
each frame counts (issue 3). The crmd app takes only `request_id_middleware`.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any

import structlog
from aiohttp import web

from bridge.errors import ApiError
from bridge.http.edge import REQUESTS

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID_HEADER = "X-Request-Id"
# Request ids need to be unique, not secret: a random per-process prefix and a
# counter, 32 hex digits like a UUID, without a system call per request.
_ID_PREFIX = secrets.token_hex(8)
_id_counter = itertools.count(1)
_request_id: ContextVar[str] = ContextVar("request_id", default="")

# aiohttp's own HTTP errors, given the stable ids our API documents.
_HTTP_ERROR_IDS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "body-too-large",
    415: "unsupported-media-type",
}


@web.middleware
async def request_id_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    request_id = bind_request_id(request)
    response = await handler(request)
    if not response.prepared:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


@web.middleware
async def service_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Request id, then the error shape, then the count, as three would do."""
    request_id = bind_request_id(request)
    try:
        response = await handler(request)
    except Exception as exc:  # noqa: BLE001 - mapped to the one error shape
        response = error_for(request, exc)
    request.app[REQUESTS].count(request, response.status)
    if not response.prepared:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def bind_request_id(request: web.Request) -> str:
    """The client's request id, or a new one; bound for every log line of the
    request. aiohttp runs each request in a task of its own with a copy of the
    context, so the binding ends with the request: no reset, hence no saved copy
    of every bound variable per parked long-poll (bound_contextvars: ~1.7 KB)."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = incoming if 0 < len(incoming) <= 64 else new_request_id()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    _request_id.set(request_id)
    return request_id


def current_request_id() -> str:
    """The id `bind_request_id` gave the request this task serves ("" outside
    one): the answer's X-Request-Id when a handler writes it itself."""
    return _request_id.get()


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_id_counter):016x}"


def error_for(request: web.Request, exc: Exception) -> web.StreamResponse:
    """The error answer for what a handler raised; re-raises a non-error
    `HTTPException` (a redirect), which aiohttp answers itself."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.body(), exc.headers)
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        error_id = _HTTP_ERROR_IDS.get(exc.status, f"http-{exc.status}")
        message = exc.reason if exc.text is None else _plain(exc.text, exc.reason)
        body = {"error": {"id": error_id, "message": message}}
        return error_response(exc.status, body, _carry_headers(exc))
    log.error("unhandled error in %s %s", request.method, request.path, exc_info=exc)
    body = {"error": {"id": "internal", "message": "internal error"}}
    return error_response(500, body, {})


def error_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str]
) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


def _plain(text: str, fallback: str) -> str:
    # aiohttp's default texts are "404: Not Found"; keep the words, drop the code.
    head, _, rest = text.partition(": ")
    return rest.strip() if head.isdigit() and rest.strip() else text.strip() or fallback


def _carry_headers(exc: web.HTTPException) -> dict[str, str]:
    keep = ("Allow", "Retry-After", "WWW-Authenticate")
    return {k: exc.headers[k] for k in keep if k in exc.headers}
