"""TLS verification is on by default: a self-signed 1C publication is refused."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bridge.onec.demo.data import COUNTERPARTIES, generate
from bridge.onec.demo.server import ODATA_ROOT, DemoOneC
from bridge.onec.errors import OneCUnavailable
from bridge.onec.literals import Query
from bridge.onec.odata import ODataClient
from tests.fakes.onec import NO_WAIT, PASSWORD, USERNAME


@pytest.fixture
async def tls_onec(tmp_path: Path) -> AsyncIterator[str]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    openssl = shutil.which("openssl")
    assert openssl, "the TLS test needs the openssl command"
    args = "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    subprocess.run(  # noqa: ASYNC221 - a one-off certificate for the test
        [openssl, *args.split(), "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    fake = DemoOneC(generate(1, counterparties=5), username=USERNAME, password=PASSWORD)
    server = TestServer(fake.app(), host="127.0.0.1", scheme="https")
    await server.start_server(ssl=context)
    try:
        yield str(server.make_url(ODATA_ROOT))
    finally:
        await server.close()


async def test_untrusted_certificate_is_refused_by_default(tls_onec: str):
    client = ODataClient(tls_onec, username=USERNAME, password=PASSWORD, retry=NO_WAIT)
    async with client:
        with pytest.raises(OneCUnavailable, match="certificate is not trusted"):
            await client.get(COUNTERPARTIES)


async def test_verification_can_be_switched_off_for_a_test_server(tls_onec: str):
    client = ODataClient(
        tls_onec,
        username=USERNAME,
        password=PASSWORD,
        verify_tls=False,
        retry=NO_WAIT,
    )
    async with client:
        assert len(await client.get(COUNTERPARTIES, Query(top=2))) == 2
