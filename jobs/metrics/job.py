"""The `metrics` job body: build the payload, send it if an endpoint is configured."""

from __future__ import annotations

import json
from collections.abc import Callable

from bridge.config import Config
from bridge.storage.database import Database
from jobs.base import JobBody, JobContext, JobOutcome, JobReport
from jobs.metrics.payload import build_payload
from jobs.metrics.sender import SendFailed, send


def metrics_body(
    config: Config,
    db: Database,
    enabled_jobs: Callable[[], list[str]],
    *,
    backoff_seconds: float = 1.0,
) -> JobBody:
    async def body(_ctx: JobContext) -> JobReport:
        payload = await build_payload(config, db, enabled_jobs=enabled_jobs())
        recorded = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        endpoint = config.metrics.endpoint
        if not endpoint:
            return JobReport(JobOutcome.OK, {"sent": 0}, f"recorded only: {recorded}")
        try:
            attempts = await send(
                endpoint,
                payload,
                attempts=config.metrics.attempts,
                timeout_seconds=config.metrics.timeout_seconds,
                backoff_seconds=backoff_seconds,
            )
        except SendFailed as exc:
            counters = {"sent": 0, "attempts": exc.attempts}
            return JobReport(JobOutcome.FAILED, counters, f"{exc}; payload: {recorded}")
        return JobReport(
            JobOutcome.OK, {"sent": 1, "attempts": attempts}, f"sent: {recorded}"
        )

    return body
