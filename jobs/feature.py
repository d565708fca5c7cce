"""Wiring the job runner into the app: routes, scheduler task, health, windows."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from bridge.core import Core
from bridge.longpoll.events_api import WINDOWS
from jobs.http import JobsApi, declare
from jobs.leader import leader_lock
from jobs.metrics.job import metrics_body
from jobs.metrics.payload import build_payload
from jobs.runner import JobRunner
from jobs.schedule import JobScheduler
from jobs.windows import WindowPolicyTarget, bind_windows, window_bodies

RUNNER = web.AppKey("jobs_runner", JobRunner)
SCHEDULER = web.AppKey("jobs_scheduler", JobScheduler)


def setup(
    app: web.Application, core: Core, windows: WindowPolicyTarget | None = None
) -> None:
    config = core.config
    # The exchange jobs open and close the long-poll channels' windows.
    windows = windows or app.get(WINDOWS)
    runner = JobRunner(
        core.db,
        config.jobs,
        core.job_bodies,
        clock=core.clock,
        instance=config.cluster.instance_name or socket.gethostname(),
        redactor=core.redactor,
        registry=core.metrics,
    )
    scheduler = JobScheduler(
        runner,
        leader_lock(core.db, config.storage.data_dir),
        refresh_seconds=config.jobs.refresh_seconds,
        enabled=config.jobs.enabled,
    )
    app[RUNNER] = runner
    app[SCHEDULER] = scheduler
    _register_own_bodies(core, runner)
    if windows is not None:
        bind_windows(runner, windows)

    async def preview() -> dict[str, Any]:
        return await build_payload(config, core.db, enabled_jobs=_enabled(runner))

    app.add_routes(JobsApi(core, runner, preview).routes())
    declare(core)
    core.health.register("scheduler", scheduler.status)
    app.cleanup_ctx.append(_scheduler_task(runner, scheduler))


def _register_own_bodies(core: Core, runner: JobRunner) -> None:
    # setdefault: a feature that registered a richer body first keeps it.
    for job_id, body in window_bodies(runner).items():
        core.job_bodies.setdefault(job_id, body)
    core.job_bodies.setdefault(
        "metrics",
        metrics_body(core.config, core.db, lambda: _enabled(runner)),
    )


def _enabled(runner: JobRunner) -> list[str]:
    return [s.job_id for s in runner.states() if s.enabled]


def _scheduler_task(
    runner: JobRunner, scheduler: JobScheduler
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        # Settings are loaded before the first request so the API never sees none.
        await runner.load()
        await scheduler.tick()
        task = asyncio.create_task(scheduler.run_forever(), name="jobs-scheduler")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await scheduler.stop()

    return lifecycle
