"""`telebridge consumers add|list|revoke`: the consumers admin API from a shell.

The verbs change a running service, so they talk to its HTTP API (http.host and
http.port, or --url) with the admin token (auth.admin_token, or the token file the
service generated in the data folder).
"""

from __future__ import annotations

import argparse
import json

import aiohttp

from bridge.admin_client import add_client_options, call, failed
from bridge.cli import EXIT_OK, out

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
    add_client_options(parser)


def _add(args: argparse.Namespace) -> int:
    body = {"name": args.name, "kind": args.kind, "extension": args.extension}
    status, answer = call(args, "POST", "/api/v1/consumers", body)
    if status != 201:
        return failed(status, answer)
    out(f"consumer {answer['name']} ({answer['kind']}) added; its token (shown once):")
    out(answer["token"])
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    status, answer = call(args, "GET", "/api/v1/consumers")
    if status != 200:
        return failed(status, answer)
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
    status, answer = call(args, "DELETE", f"/api/v1/consumers/{args.name}")
    if status != 204:
        return failed(status, answer)
    out(f"consumer {args.name} revoked")
    return EXIT_OK
