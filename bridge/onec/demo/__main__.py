"""Run the demo 1C: `python -m bridge.onec.demo --port 8580`."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from bridge.onec.demo.data import generate
from bridge.onec.demo.server import ODATA_ROOT, WS_PATH, DemoOneC

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bridge.onec.demo", description=__doc__
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8580)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--counterparties", type=int, default=300)
    parser.add_argument("--username", default="odata")
    parser.add_argument("--password", default="secret")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    fake = DemoOneC(
        generate(args.seed, counterparties=args.counterparties),
        username=args.username,
        password=args.password,
    )
    base = f"http://{args.host}:{args.port}"
    log.info("OData: %s%s  SOAP: %s%s", base, ODATA_ROOT, base, WS_PATH)
    web.run_app(fake.app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
