"""The CLI's way into a running service: its admin HTTP API, with the admin token.

Verbs that change a running service (jobs, consumers, ...) must go through it so the
change applies at once; this is the one place that knows how to reach it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bridge.cli import EXIT_FAILED, add_config_option, load
from bridge.config import Config
from bridge.core import ADMIN_TOKEN_FILE

TIMEOUT = aiohttp.ClientTimeout(total=30)


def add_client_options(parser: argparse.ArgumentParser) -> None:
    add_config_option(parser)
    parser.add_argument(
        "--url", default="", help="the service's base URL (default: from http.*)"
    )


def call(
    args: argparse.Namespace, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    """(status, decoded JSON body); status 0 when the service cannot be reached."""
    config, _ = load(args)
    base = args.url.rstrip("/") or base_url(config)
    headers = {"Authorization": f"Bearer {admin_token(config)}"}

    async def request() -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.request(method, base + path, json=body, headers=headers) as resp,
        ):
            text = await resp.text()
            return resp.status, json.loads(text) if text else None

    try:
        return asyncio.run(request())
    except (aiohttp.ClientError, TimeoutError) as exc:
        return 0, {"error": {"id": "unreachable", "message": f"{base}: {exc}"}}


def failed(status: int, answer: Any) -> int:
    """Print the service's error (or why it was unreachable); returns exit code 1."""
    error = answer.get("error", {}) if isinstance(answer, dict) else {}
    message = error.get("message") or f"HTTP {status}"
    print(f"telebridge: {error.get('id', 'error')}: {message}", file=sys.stderr)  # noqa: T201
    return EXIT_FAILED


def base_url(config: Config) -> str:
    """Where the running service answers, as seen from this machine."""
    host = config.http.host
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - listening everywhere: ask locally
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.http.port}"


def admin_token(config: Config) -> str:
    """The configured admin token, or the one the service generated; "" if none."""
    configured = config.auth.admin_token.get_secret_value()
    if configured:
        return configured
    path = Path(config.storage.data_dir) / ADMIN_TOKEN_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
