"""Bearer-token checks for the admin API."""

from __future__ import annotations

import hmac

from aiohttp import web

from bridge.errors import Unauthorized


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def check_admin(request: web.Request, admin_token: str) -> None:
    """Raise `Unauthorized` unless the request carries the admin token."""
    token = bearer_token(request)
    if token is None or not hmac.compare_digest(
        token.encode("utf-8"), admin_token.encode("utf-8")
    ):
        raise Unauthorized("admin API needs 'Authorization: Bearer <auth.admin_token>'")
