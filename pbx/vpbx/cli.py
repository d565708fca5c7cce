"""`telebridge vpbx sign`: the X-Client-Sign of a body, for the portal's debug page.

The portal («Отладка взаимодействия») needs a self-computed signature for each test
request, and the manual suggests an online SHA-256 calculator; this computes it
locally from the configured key, so the key never leaves the machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bridge.cli import EXIT_BAD_CONFIG, EXIT_OK, add_config_option, load, out
from pbx.vpbx.signature import sign


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    vpbx = sub.add_parser(
        "vpbx", help="Rostelecom cloud PBX", description="Rostelecom cloud PBX."
    )
    vpbx_sub = vpbx.add_subparsers(title="commands", metavar="COMMAND")
    sign_cmd = vpbx_sub.add_parser(
        "sign",
        help="print the X-Client-ID and X-Client-Sign headers for a request body",
        description="Sign the exact bytes of FILE (or standard input) with "
        "vpbx.client_id and vpbx.sign_key, as the Integration API expects.",
    )
    add_config_option(sign_cmd)
    sign_cmd.add_argument("file", nargs="?", type=Path, help="body file (default: -)")
    sign_cmd.set_defaults(command=_sign)


def _sign(args: argparse.Namespace) -> int:
    config, _ = load(args)
    vpbx = config.vpbx
    key = vpbx.sign_key.get_secret_value()
    if not vpbx.client_id or not key:
        out("vpbx.client_id and vpbx.sign_key must be set")
        return EXIT_BAD_CONFIG
    body = args.file.read_bytes() if args.file else sys.stdin.buffer.read()
    out(f"X-Client-ID: {vpbx.client_id}")
    out(f"X-Client-Sign: {sign(vpbx.client_id, body, key)}")
    return EXIT_OK
