"""Wiring of the `routing_table` job body (called from `bridge.app`)."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from bridge.core import Core
from bridge.journal.routing_source import JournalCalls
from bridge.onec.feature import STAFF, odata_client
from jobs.base import JobContext, JobReport
from jobs.routing_table.job import DocumentSource, RoutingTableJob
from jobs.routing_table.onec_source import OneCDocuments
from jobs.routing_table.store import RoutingStore
from jobs.routing_table.table import RoutingTable

JOB_ID = "routing_table"
ROUTING_JOB = web.AppKey("routing_table_job", RoutingTableJob)
ROUTING_TABLE = web.AppKey("routing_table", RoutingTable)


def setup(
    app: web.Application,
    core: Core,
    sources: Sequence[DocumentSource] | None = None,
) -> None:
    """Calls from the journal are the default document source (seed 003); each
    configured 1C document type adds one."""
    if sources is None:
        sources = (JournalCalls(core.db), *onec_sources(core))
    excluded = frozenset(core.config.routing.excluded)
    staff = app.get(STAFF)

    async def inactive() -> frozenset[str]:
        # Service users never rank; dismissed ones drop out so the next takes over.
        return excluded | (await staff.dismissed() if staff else frozenset())

    store = RoutingStore(core.db)
    types = core.config.routing.document_types_by_name()
    job = RoutingTableJob(store, sources, types, core.clock)

    async def body(context: JobContext) -> JobReport:
        if not sources:
            return JobReport.not_configured("no document source (the call journal)")
        return await job(context)

    app[ROUTING_JOB] = job
    app[ROUTING_TABLE] = RoutingTable(
        store, types, core.clock, inactive, staff.employee_id if staff else None
    )
    core.job_bodies[JOB_ID] = body


def onec_sources(core: Core) -> list[DocumentSource]:
    config = core.config
    if not config.onec.odata_url:
        return []  # the config check refuses enabled types without 1C
    return [
        OneCDocuments(
            doc_type,
            lambda: odata_client(config.onec),
            config.cdr.zone,
            core.clock,
            config.onec.page_size,
        )
        for doc_type in config.routing.document_types
        if doc_type.enabled
    ]
