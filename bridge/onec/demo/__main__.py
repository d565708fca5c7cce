"""Run the demo 1C: `python -m bridge.onec.demo --port 8580`."""

from __future__ import annotations

import argparse
import logging
import random

from aiohttp import web

from bridge.onec.demo.data import COUNTERPARTIES, Infobase, generate
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
    parser.add_argument(
        "--touch-percent",
        type=float,
        default=0.0,
        help="edit this share of counterparties after generating (a later state "
        "of the same base, for incremental builds)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    base = generate(args.seed, counterparties=args.counterparties)
    touch(base, args.touch_percent, args.seed)
    fake = DemoOneC(base, username=args.username, password=args.password)
    url = f"http://{args.host}:{args.port}"
    log.info("OData: %s%s  SOAP: %s%s", url, ODATA_ROOT, url, WS_PATH)
    web.run_app(fake.app(), host=args.host, port=args.port)


def touch(base: Infobase, percent: float, seed: int) -> None:
    rnd = random.Random(seed)  # noqa: S311 - demo data
    companies = base.sets[COUNTERPARTIES]
    for company in rnd.sample(companies, int(len(companies) * percent / 100)):
        company["Description"] = "изменён"
        company["DataVersion"] = base.next_version()


if __name__ == "__main__":
    main()
