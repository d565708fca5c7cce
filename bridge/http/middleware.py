"""Middlewares: a request id on every request and log line, and one error shape."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from aiohttp import web

from bridge.errors import ApiError

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID_HEADER = "X-Request-Id"

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
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = incoming if 0 < len(incoming) <= 64 else uuid.uuid4().hex
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        response = await handler(request)
    if not response.prepared:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


@web.middleware
async def error_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.body(), exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        error_id = _HTTP_ERROR_IDS.get(exc.status, f"http-{exc.status}")
        message = exc.reason if exc.text is None else _plain(exc.text, exc.reason)
        body = {"error": {"id": error_id, "message": message}}
        return error_response(exc.status, body, _carry_headers(exc))
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
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
