"""The 1C feature in the running service: contacts, health, job bodies."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from bridge.onec.contact_index import ContactIndex
from bridge.onec.demo.data import COUNTERPARTIES
from bridge.service import running
from jobs.base import JobContext, JobOutcome
from tests.conftest import RunningService, make_config
from tests.fakes.onec import PASSWORD, USERNAME, RunningOneC


async def onec_health(service: RunningService) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(service.url + "/healthz") as r:
        body = await r.json()
    health: dict[str, Any] = body["components"]["onec"]
    return health


async def test_not_configured_by_default(service):
    assert (await onec_health(service))["state"] == "not_configured"
    assert isinstance(service.core.contacts, ContactIndex)
    report = await service.core.job_bodies["contact_refresh"](
        JobContext("contact_refresh", service.core.clock.now())
    )
    assert report.outcome is JobOutcome.NOT_CONFIGURED


async def test_configured_service_builds_the_index_and_reports_it(
    tmp_path: Path, onec: RunningOneC
):
    config = make_config(
        tmp_path,
        onec={"odata_url": onec.odata_url, "username": USERNAME, "password": PASSWORD},
    )
    async with running(config) as (core, where):
        service = RunningService(core, where)
        index = core.contacts
        assert isinstance(index, ContactIndex)
        async with asyncio.timeout(10):
            await index.wait_for(lambda i: i.owners > 0)  # the first build on start
        company = next(
            c
            for c in onec.infobase.sets[COUNTERPARTIES]
            if c["КонтактнаяИнформация"][0]["НомерТелефона"] and not c["DeletionMark"]
        )
        match = await index.lookup(company["КонтактнаяИнформация"][0]["НомерТелефона"])
        assert match is not None

        onec.fake.faults.down = True
        ctx = JobContext("contact_refresh_operative", core.clock.now())
        report = await core.job_bodies["contact_refresh_operative"](ctx)
        assert report.outcome is JobOutcome.FAILED
        health = await onec_health(service)
        assert health["state"] == "degraded"
        assert health["data"]["indexed_owners"] == index.owners
        assert PASSWORD not in str(health)

        onec.fake.faults.down = False
        report = await core.job_bodies["contact_refresh_operative"](ctx)
        assert report.outcome is JobOutcome.OK
        assert (await onec_health(service))["state"] == "ok"
