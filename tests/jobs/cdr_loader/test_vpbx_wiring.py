"""`cdr.source = "vpbx"` end to end: the journal orders an export through the real
Rostelecom client, is told it is ready by the signed webhook, downloads and loads it.

The Rostelecom API is `FakeRostelecomApi` (signatures checked, manual §10.6).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bridge.service import running
from jobs.base import JobContext, JobOutcome
from pbx.vpbx.signature import sign
from tests.conftest import make_config
from tests.fakes.rostelecom import FakeRostelecomApi, start

CLIENT_ID = "1874BAB574D929ECDD7C2880185FBF69"
KEY = "259D87F014309CD190E91AC53C9C39E0"


async def test_a_rostelecom_export_lands_in_the_journal(tmp_path: Path) -> None:
    api = FakeRostelecomApi(CLIENT_ID, KEY)
    runner, base = await start(api)
    config = make_config(
        tmp_path,
        vpbx={"client_id": CLIENT_ID, "sign_key": KEY, "api_url": base},
        cdr={"source": "vpbx"},
    )
    try:
        async with running(config) as (core, where), aiohttp.ClientSession() as http:
            # The PBX may say the file is ready before the loader starts waiting.
            notice = json.dumps({"order_id": "ORD-7"}).encode()
            headers = {
                "X-Client-ID": CLIENT_ID,
                "X-Client-Sign": sign(CLIENT_ID, notice, KEY),
            }
            url = "http://{}:{}/vpbx/history_file_completed".format(*where.http)
            async with http.post(url, data=notice, headers=headers) as r:
                assert r.status == 200
            body = core.job_bodies["cdr_loader"]
            report = await body(JobContext("cdr_loader", datetime.now(UTC)))
            assert report.outcome is JobOutcome.OK, report
            assert report.counters["inserted"] == 1
            again = await body(JobContext("cdr_loader", datetime.now(UTC)))
            assert again.counters.get("inserted", 0) == 0
    finally:
        await runner.cleanup()
    methods = [r.method for r in api.received]
    assert methods[:2] == ["domain_call_history", "download_call_history"]
    assert not api.refused
