"""The jobs admin API under /api/v1/jobs (admin token required on every route)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from bridge.core import Core
from bridge.errors import BadRequest, Conflict, NotFound
from bridge.http.auth import check_admin
from bridge.http.bodies import query_int, read_model
from bridge.http.openapi import query_param
from jobs.records import JobState, RunRecord, RunTrigger
from jobs.runner import JobBusy, JobRunner, UnknownJob
from jobs.schedule_model import Schedule
from jobs.schedule_words import describe

PREFIX = "/api/v1/jobs"
_RUNS_DEFAULT, _RUNS_MAX = 50, 1000
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PreviewFn = Callable[[], Awaitable[dict[str, Any]]]


class JobPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    schedule: Schedule | None = None


class JobView(BaseModel):
    id: str
    title: str
    kind: str
    enabled: bool
    schedule: Schedule
    schedule_text: str
    running: bool
    next_run_at: datetime | None
    last_run: dict[str, Any] | None


class JobList(BaseModel):
    jobs: list[JobView]


class RunList(BaseModel):
    runs: list[dict[str, Any]]


class RunView(BaseModel):
    run: dict[str, Any] | None


class JobsApi:
    def __init__(self, core: Core, runner: JobRunner, preview: PreviewFn) -> None:
        self._core = core
        self._runner = runner
        self._preview = preview

    def routes(self) -> list[web.RouteDef]:
        guard = self._admin
        return [
            web.get(PREFIX, guard(self.list_jobs)),
            web.get(f"{PREFIX}/metrics/preview", guard(self.metrics_preview)),
            web.get(PREFIX + "/{id}", guard(self.show)),
            web.patch(PREFIX + "/{id}", guard(self.patch)),
            web.post(PREFIX + "/{id}/run", guard(self.run_now)),
            web.get(PREFIX + "/{id}/runs", guard(self.runs)),
        ]

    async def list_jobs(self, _request: web.Request) -> web.Response:
        views = [await self._view(s) for s in self._runner.states()]
        return _json(JobList(jobs=views))

    async def show(self, request: web.Request) -> web.Response:
        return _json(await self._view(self._state(request)))

    async def patch(self, request: web.Request) -> web.Response:
        state = self._state(request)
        change = await read_model(request, JobPatch)
        if change.enabled is None and change.schedule is None:
            raise BadRequest("nothing to change: give 'enabled' and/or 'schedule'")
        updated = await self._runner.update(
            state.job_id, enabled=change.enabled, schedule=change.schedule
        )
        return _json(await self._view(updated))

    async def run_now(self, request: web.Request) -> web.Response:
        state = self._state(request)
        wait = request.query.get("wait", "") in ("1", "true", "yes")
        try:
            started = await self._runner.start(
                state.job_id, self._core.clock.now(), RunTrigger.MANUAL
            )
        except JobBusy as exc:
            raise Conflict(str(exc), error_id="job-running") from None
        if started is None:
            raise Conflict("the run could not be claimed", error_id="job-running")
        if wait:
            # Shielded: a client hanging up must not cancel the job it started.
            record = await asyncio.shield(started.task)
            return _json(RunView(run=_run_json(record)))
        claimed = await self._runner.get_run(started.run_id)
        return _json(RunView(run=_run_json(claimed)), status=202)

    async def runs(self, request: web.Request) -> web.Response:
        state = self._state(request)
        limit = query_int(request, "limit", _RUNS_DEFAULT, lo=1, hi=_RUNS_MAX)
        records = await self._runner.runs(state.job_id, limit)
        return _json(RunList(runs=[r.as_json() for r in records]))

    async def metrics_preview(self, _request: web.Request) -> web.Response:
        return web.json_response(await self._preview())

    def _state(self, request: web.Request) -> JobState:
        try:
            return self._runner.state(request.match_info["id"])
        except UnknownJob as exc:
            raise NotFound(str(exc), error_id="unknown-job") from None

    async def _view(self, state: JobState) -> JobView:
        last = await self._runner.runs(state.job_id, 1)
        return JobView(
            id=state.job_id,
            title=state.spec.title,
            kind=state.spec.kind.value,
            enabled=state.enabled,
            schedule=state.schedule,
            schedule_text=describe(state.schedule),
            running=self._runner.is_running(state.job_id),
            next_run_at=state.next_fire(self._runner.zone, self._core.clock.now()),
            last_run=last[0].as_json() if last else None,
        )

    def _admin(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            check_admin(request, self._core.admin_token)
            return await handler(request)

        return guarded


def declare(core: Core) -> None:
    api = core.openapi
    job_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    errors: dict[int, Any] = {401: None, 404: None}
    api.add("get", PREFIX, summary="List the jobs", responses={200: JobList, 401: None})
    api.add(
        "get",
        PREFIX + "/{id}",
        summary="One job",
        parameters=[job_id],
        responses={200: JobView, **errors},
    )
    api.add(
        "patch",
        PREFIX + "/{id}",
        summary="Enable, disable or reschedule a job (applies at once)",
        parameters=[job_id],
        body=JobPatch,
        responses={200: JobView, 400: None, **errors},
    )
    api.add(
        "post",
        PREFIX + "/{id}/run",
        summary="Run a job now (409 job-running if it is running)",
        parameters=[job_id, query_param("wait", {"type": "boolean"}, "await the end")],
        responses={200: RunView, 202: RunView, 409: None, **errors},
    )
    api.add(
        "get",
        PREFIX + "/{id}/runs",
        summary="Run history, newest first",
        parameters=[job_id, query_param("limit", {"type": "integer"})],
        responses={200: RunList, 400: None, **errors},
    )
    api.add(
        "get",
        PREFIX + "/metrics/preview",
        summary="The exact payload the metrics job would send now",
        responses={200: {"type": "object"}, 401: None},
    )


def _run_json(record: RunRecord | None) -> dict[str, Any] | None:
    return None if record is None else record.as_json()


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(text=model.model_dump_json(), status=status)
