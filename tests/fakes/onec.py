"""The fake 1C on a real socket, for tests (the server itself is `bridge.onec.demo`).

It stands in for a 1C:Enterprise 8.3 publication with the standard OData interface
and the `miko_crm_api` web service; see `bridge.onec.demo.server` for what it
reproduces from the 1C documentation and what it does not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp.test_utils import TestServer

from bridge.onec.demo.data import Infobase, generate
from bridge.onec.demo.server import ODATA_ROOT, WS_PATH, DemoOneC
from bridge.onec.odata import ODataClient, RetryPolicy

USERNAME = "odata"
PASSWORD = "p@ss-секрет"  # non-ASCII: Basic auth must carry it as UTF-8
# Tests retry at once: backoff timing is the benchmarks' business, not theirs.
NO_WAIT = RetryPolicy(attempts=3, initial_wait=0, max_wait=0)


@dataclass
class RunningOneC:
    fake: DemoOneC
    odata_url: str
    soap_url: str

    @property
    def infobase(self) -> Infobase:
        return self.fake.infobase

    def client(self, *, password: str = PASSWORD) -> ODataClient:
        return ODataClient(
            self.odata_url, username=USERNAME, password=password, retry=NO_WAIT
        )


@asynccontextmanager
async def serving(infobase: Infobase | None = None) -> AsyncIterator[RunningOneC]:
    fake = DemoOneC(
        infobase or generate(7, counterparties=120, users=5, calls=50),
        username=USERNAME,
        password=PASSWORD,
    )
    async with TestServer(fake.app(), host="127.0.0.1") as server:
        yield RunningOneC(
            fake, str(server.make_url(ODATA_ROOT)), str(server.make_url(WS_PATH))
        )
