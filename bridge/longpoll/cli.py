"""`telebridge consumers add|list|revoke`: the consumers admin API from a shell.

The verbs change a running service, so they talk to its HTTP API (http.host and
http.port, or --url) with the admin token (auth.admin_token, or the token file the
service generated in the data folder).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bridge.cli import EXIT_FAILED, EXIT_OK, add_config_option, load, out
from bridge.config import Config
from bridge.core import ADMIN_TOKEN_FILE

_TIMEOUT = aiohttp.ClientTimeout(total=30)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser(
        "consumers",
        help="long-poll consumers (1C bases, panels)",
        description="Add, list and revoke the consumers of the events channel.",
    )
    verbs = group.add_subparsers(title="commands", metavar="COMMAND")

    add = verbs.add_parser(
        "add",
        help="add a consumer and print its token (shown once)",
        description="Add a consumer; its bearer token is printed once and stored "
        "only hashed.",
    )
    add.add_argument("name")
    add.add_argument("--kind", choices=["onec", "panel"], default="onec")
    add.add_argument("--extension", default="", help="the panel's extension")
    _common(add)
    add.set_defaults(command=_add)

    listing = verbs.add_parser("list", help="consumers with last poll and lag")
    listing.add_argument("--json", action="store_true", help="print JSON")
    _common(listing)
    listing.set_defaults(command=_list)

    revoke = verbs.add_parser("revoke", help="revoke a consumer's token")
    revoke.add_argument("name")
    _common(revoke)
    revoke.set_defaults(command=_revoke)


def _common(parser: argparse.ArgumentParser) -> None:
    add_config_option(parser)
    parser.add_argument(
        "--url", default="", help="the service's base URL (default: from http.*)"
    )


def _add(args: argparse.Namespace) -> int:
    body = {"name": args.name, "kind": args.kind, "extension": args.extension}
    status, answer = _call(args, "POST", "/api/v1/consumers", body)
    if status != 201:
        return _failed(status, answer)
    out(f"consumer {answer['name']} ({answer['kind']}) added; its token (shown once):")
    out(answer["token"])
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    status, answer = _call(args, "GET", "/api/v1/consumers")
    if status != 200:
        return _failed(status, answer)
    if args.json:
        out(json.dumps(answer, ensure_ascii=False, indent=2))
        return EXIT_OK
    out(f"{'NAME':<32} {'KIND':<6} {'EXT':<8} {'LAST POLL':<27} LAG")
    for c in answer["consumers"]:
        lag = "-" if c["lag"] is None else str(c["lag"])
        last = c["last_poll_at"] or "never"
        out(f"{c['name']:<32} {c['kind']:<6} {c['extension']:<8} {last:<27} {lag}")
    return EXIT_OK


def _revoke(args: argparse.Namespace) -> int:
    status, answer = _call(args, "DELETE", f"/api/v1/consumers/{args.name}")
    if status != 204:
        return _failed(status, answer)
    out(f"consumer {args.name} revoked")
    return EXIT_OK


def _failed(status: int, answer: Any) -> int:
    error = answer.get("error", {}) if isinstance(answer, dict) else {}
    message = error.get("message") or f"HTTP {status}"
    print(f"telebridge: {error.get('id', 'error')}: {message}", file=sys.stderr)  # noqa: T201
    return EXIT_FAILED


def _call(
    args: argparse.Namespace, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    config, _ = load(args)
    base = args.url.rstrip("/") or _base_url(config)
    headers = {"Authorization": f"Bearer {_admin_token(config)}"}

    async def call() -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession(timeout=_TIMEOUT) as session,
            session.request(method, base + path, json=body, headers=headers) as resp,
        ):
            text = await resp.text()
            return resp.status, json.loads(text) if text else None

    try:
        return asyncio.run(call())
    except (aiohttp.ClientError, TimeoutError) as exc:
        return 0, {"error": {"id": "unreachable", "message": f"{base}: {exc}"}}


def _base_url(config: Config) -> str:
    host = config.http.host
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - listening everywhere: ask locally
        host = "127.0.0.1"
    return f"http://{host}:{config.http.port}"


def _admin_token(config: Config) -> str:
    configured = config.auth.admin_token.get_secret_value()
    if configured:
        return configured
    path = Path(config.storage.data_dir) / ADMIN_TOKEN_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
