"""The call-journal feature: the history API and the `cdr_loader` job body, with
the write-back of calls to 1C as its last step when `onec.writeback` is on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aiohttp import web

from bridge.core import Core
from bridge.journal.http import setup_journal_api
from bridge.journal.onec_links import OneCLinks
from bridge.journal.owners import JournalOwners
from bridge.onec.feature import CONTACT_REFRESH, odata_client
from jobs.base import JobContext, JobReport
from jobs.cdr_loader.config import CdrConfig
from jobs.cdr_loader.loader import CdrLoader, GapCheck
from jobs.cdr_loader.sources.base import CdrSource
from jobs.cdr_loader.sources.csv_master import MasterCsvSource
from jobs.cdr_loader.sources.mikopbx_rest import MikoPbxRestSource
from jobs.cdr_loader.sources.sql_table import SqlTableSource
from jobs.cdr_loader.sources.vpbx_client import VpbxHistory
from jobs.cdr_loader.sources.vpbx_export import VpbxExportSource
from jobs.cdr_loader.writeback import WriteBackMetrics, WriteBackStep
from pbx.vpbx.client import VpbxClient
from pbx.vpbx.feature import VPBX
from pbx.vpbx.history_files import HistoryFiles

JOB_ID = "cdr_loader"
# Master.csv is append-only; re-reading a few lines is the cheap overlap.
CSV_OVERLAP_BYTES = 4096


def setup(app: web.Application, core: Core) -> None:
    setup_journal_api(app, core)
    source = build_source(core.config.cdr)
    if core.config.cdr.source == "vpbx" and VPBX in app:
        source = vpbx_source(core, app[VPBX].client, app[VPBX].history_files)
    core.job_bodies[JOB_ID] = job_body(core, source, writeback_step(core))
    if CONTACT_REFRESH in app:
        # The contact refresh jobs fill owners of the journal's calls.
        app[CONTACT_REFRESH].calls = JournalOwners(core.db)


def job_body(
    core: Core,
    source: CdrSource | None = None,
    writeback: WriteBackStep | None = None,
) -> CdrLoaderBody:
    return CdrLoaderBody(core, source or build_source(core.config.cdr), writeback)


def writeback_step(core: Core) -> WriteBackStep | None:
    """The write-back step, or None while `onec.writeback.enabled` is off."""
    config = core.config.onec
    if not config.writeback.enabled:
        return None
    return WriteBackStep(
        OneCLinks(core.db),
        config,
        zone=core.config.cdr.zone,
        clock=core.clock,
        client=lambda: odata_client(config),
        metrics=WriteBackMetrics(core.metrics),
    )


def vpbx_source(
    core: Core, client: VpbxClient, notices: HistoryFiles
) -> VpbxExportSource:
    cdr = core.config.cdr
    return VpbxExportSource(
        VpbxHistory(client, notices),
        core.clock,
        batch_size=cdr.batch_size,
        overlap=timedelta(seconds=cdr.overlap_seconds),
        poll_first=cdr.vpbx_poll_first_seconds,
        poll_max=cdr.vpbx_poll_max_seconds,
        timeout=cdr.vpbx_export_timeout_seconds,
    )


class CdrLoaderBody:
    """Reads `core.events`/`core.contacts` at run time: features set them later."""

    def __init__(
        self,
        core: Core,
        source: CdrSource | None,
        writeback: WriteBackStep | None = None,
    ) -> None:
        self.core = core
        self.source = source
        self.writeback = writeback

    async def __call__(self, ctx: JobContext) -> JobReport:
        if self.source is None:
            return JobReport.not_configured("cdr.source")
        cdr = self.core.config.cdr
        loader = CdrLoader(
            self.core.db,
            self.source,
            zone=cdr.zone,
            clock=self.core.clock,
            gap_check=GapCheck(
                cdr.gap_check_hours, timedelta(minutes=cdr.gap_check_every_minutes)
            ),
            contacts=self.core.contacts,
            events=self.core.events,
        )
        report = await loader(ctx)
        if self.writeback is None:
            return report
        # After the load: the journal's rows are committed whatever 1C does.
        written = await self.writeback()
        message = "; ".join(
            m
            for m in (
                report.message,
                written.deferred and f"1C write-back: {written.deferred}",
            )
            if m
        )
        return JobReport(
            report.outcome, {**report.counters, **written.counters}, message
        )


def build_source(cdr: CdrConfig) -> CdrSource | None:
    """The configured source; "vpbx" is wired where the Rostelecom client lives."""
    if cdr.source == "csv":
        return MasterCsvSource(
            Path(cdr.path),
            encoding=cdr.encoding,
            batch_size=cdr.batch_size,
            overlap_bytes=CSV_OVERLAP_BYTES,
            zone=cdr.zone,
        )
    if cdr.source == "sql":
        return SqlTableSource(
            cdr.url,
            cdr.table,
            batch_size=cdr.batch_size,
            overlap=timedelta(seconds=cdr.overlap_seconds),
            zone=cdr.zone,
        )
    if cdr.source == "mikopbx":
        return MikoPbxRestSource(
            cdr.url,
            limit=cdr.mikopbx_limit,
            overlap_rows=cdr.overlap_rows,
            timeout=cdr.request_timeout_seconds,
        )
    return None
