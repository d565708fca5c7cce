"""The history and statistics API: /api/v1/calls..., /api/v1/stats/calls.

Admin token or an `onec` consumer token (1C bases read the journal); panels are
refused. Every parameter is checked here and a bad one is a 400 naming it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import select

from bridge.call_events import Direction
from bridge.core import Core
from bridge.errors import Forbidden, InvalidField, NotFound, Unauthorized
from bridge.http.auth import bearer_token, check_admin
from bridge.http.bodies import query_int
from bridge.http.openapi import Media, query_param
from bridge.journal import export, query, recordings
from bridge.journal.models import CallLeg
from bridge.journal.query import CallFilter
from bridge.journal.stats import Bucket, GroupBy, Tallies, summarize
from bridge.longpoll.consumer_auth import ConsumerKind
from bridge.phone_numbers import NumberKind, PhoneNumber, normalize

MAX_PAGE = 1000
MAX_OFFSET = 1_000_000
EXPORT_MAX_ROWS = 200_000
MAX_STATS_DAYS = 400
MAX_QUERY = 80
MIN_EXTENSION_DIGITS = 2
_BOOL = {"true": True, "1": True, "false": False, "0": False}


class LegOut(BaseModel):
    id: int
    linkedid: str
    call_id: str
    sequence: int
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    direction: str
    status: str
    answered: bool
    missed: bool
    src: str
    dst: str
    did: str
    employee: str
    talk_seconds: int
    wait_seconds: int
    duration_seconds: int
    has_recording: bool
    number_type: str
    external_number: str
    owner_ref: str | None
    owner_name: str | None

    @classmethod
    def of(cls, leg: CallLeg) -> LegOut:
        return cls(
            **{
                name: getattr(leg, name)
                for name in cls.model_fields
                if name not in ("src", "dst", "has_recording")
            },
            src=leg.src_raw,
            dst=leg.dst_raw,
            has_recording=bool(leg.recording),
        )


class CallsPage(BaseModel):
    items: list[LegOut]
    next_offset: int | None


class CallOut(BaseModel):
    linkedid: str
    started_at: datetime
    direction: str
    status: str
    answered: bool
    missed: bool
    employee: str
    talk_seconds: int
    wait_seconds: int
    legs: list[LegOut]


class StatsRow(BaseModel):
    start: datetime
    group: str
    calls: int
    answered: int
    missed: int
    answered_share: float
    missed_share: float
    talk_seconds: int
    avg_talk_seconds: float
    avg_wait_seconds: float


class StatsOut(BaseModel):
    since: datetime
    until: datetime
    bucket: str
    group_by: str | None
    rows: list[StatsRow]


def setup_journal_api(app: web.Application, core: Core) -> None:
    api = JournalApi(core)
    app.router.add_get("/api/v1/calls", api.list_calls)
    app.router.add_get("/api/v1/calls/export", api.export_calls)
    app.router.add_get("/api/v1/calls/{id:\\d+}/recording", api.recording)
    app.router.add_get("/api/v1/calls/{linkedid}", api.get_call)
    app.router.add_get("/api/v1/stats/calls", api.stats)
    _declare(core)


class JournalApi:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.zone = core.config.cdr.zone

    async def list_calls(self, request: web.Request) -> web.Response:
        await self._authorize(request)
        flt = self._filter(request)
        limit = query_int(request, "limit", 100, lo=1, hi=MAX_PAGE)
        offset = query_int(request, "offset", 0, lo=0, hi=MAX_OFFSET)
        async with self.core.db.engine.connect() as conn:
            legs, more = await query.page(conn, flt, limit=limit, offset=offset)
        body = CallsPage(
            items=[LegOut.of(x) for x in legs],
            next_offset=offset + limit if more else None,
        )
        return web.json_response(body.model_dump(mode="json"))

    async def get_call(self, request: web.Request) -> web.Response:
        await self._authorize(request)
        linkedid = request.match_info["linkedid"]
        async with self.core.db.engine.connect() as conn:
            legs = await query.call_legs(conn, linkedid)
        if not legs:
            raise NotFound(f"no call with linkedid {linkedid!r}", error_id="no-call")
        call = summarize(legs)
        body = CallOut(
            linkedid=call.linkedid,
            started_at=call.started_at,
            direction=call.direction,
            status=call.status,
            answered=call.answered,
            missed=call.missed,
            employee=call.employee,
            talk_seconds=call.talk_seconds,
            wait_seconds=call.wait_seconds,
            legs=[LegOut.of(x) for x in legs],
        )
        return web.json_response(body.model_dump(mode="json"))

    async def export_calls(self, request: web.Request) -> web.StreamResponse:
        await self._authorize(request)
        flt = self._filter(request)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": 'attachment; filename="calls.csv"',
            }
        )
        await response.prepare(request)
        await response.write(export.header().encode("utf-8"))
        async with self.core.db.engine.connect() as conn:
            async for chunk in query.stream(conn, flt, limit=EXPORT_MAX_ROWS):
                await response.write(export.lines(chunk).encode("utf-8"))
        await response.write_eof()
        return response

    async def recording(self, request: web.Request) -> web.StreamResponse:
        await self._authorize(request)
        leg_id = int(request.match_info["id"])
        folder = self.core.config.cdr.recordings_dir
        async with self.core.db.engine.connect() as conn:
            leg = await query.leg(conn, leg_id)
        if leg is None:
            raise NotFound(f"no call leg {leg_id}", error_id="no-call")
        path = recordings.locate(leg.recording, Path(folder)) if folder else None
        if path is None:
            raise NotFound(
                f"call leg {leg_id} has no recording", error_id="no-recording"
            )
        return web.FileResponse(
            path,
            headers={
                "Content-Type": recordings.MEDIA_TYPES[path.suffix.lower()],
                "Content-Disposition": f'attachment; filename="{path.name}"',
            },
        )

    async def stats(self, request: web.Request) -> web.Response:
        await self._authorize(request)
        since, until = self._period(request)
        if until - since > timedelta(days=MAX_STATS_DAYS):
            raise InvalidField("to", f"the period is longer than {MAX_STATS_DAYS} days")
        bucket = _enum(request, "bucket", Bucket, Bucket.DAY)
        group_by = _enum(request, "group_by", GroupBy, None)
        cols = (
            CallLeg.linkedid, CallLeg.started_at, CallLeg.sequence,
            CallLeg.direction, CallLeg.status, CallLeg.answered, CallLeg.employee,
            CallLeg.talk_seconds, CallLeg.wait_seconds, CallLeg.number_type,
        )  # fmt: skip
        tallies = Tallies(bucket, self.zone, group_by)
        # Ordered by call, so only one call's legs are in memory at a time.
        stmt = (
            select(*cols)
            .where(CallLeg.started_at >= since, CallLeg.started_at < until)
            .order_by(CallLeg.linkedid)
        )
        legs: list[Any] = []
        async with self.core.db.engine.connect() as conn:
            async for row in await conn.stream(stmt):
                if legs and row.linkedid != legs[0].linkedid:
                    tallies.add(summarize(legs))
                    legs = []
                legs.append(row)
        if legs:
            tallies.add(summarize(legs))
        body = StatsOut(
            since=since,
            until=until,
            bucket=bucket.value,
            group_by=group_by.value if group_by else None,
            rows=[
                StatsRow(start=start, group=group, **t.as_dict())
                for (start, group), t in tallies.sorted()
            ],
        )
        return web.json_response(body.model_dump(mode="json"))

    async def _authorize(self, request: web.Request) -> None:
        token = bearer_token(request)
        consumers = self.core.consumers
        if (
            token is not None
            and consumers is not None
            and token != self.core.admin_token
        ):
            consumer = await consumers.authenticate(token)
            if consumer is not None:
                if consumer.kind is not ConsumerKind.ONEC:
                    raise Forbidden("the call journal is for 1C bases and admins")
                return
            raise Unauthorized()
        check_admin(request, self.core.admin_token)

    def _filter(self, request: web.Request) -> CallFilter:
        linkedid = _text(request, "linkedid", 128)
        explicit = "from" in request.query or "to" in request.query
        since, until = self._period(request)
        if linkedid and not explicit:
            since = until = None  # type: ignore[assignment]
        return CallFilter(
            since=since,
            until=until,
            numbers=_numbers(request),
            linkedid=linkedid,
            direction=_enum(request, "direction", Direction, None),
            missed=_bool(request, "missed"),
            employee=_employee(request),
        )

    def _period(self, request: web.Request) -> tuple[datetime, datetime]:
        """`from`/`to` as dates (whole local days) or date-times; default today."""
        today = self.core.clock.now().astimezone(self.zone).date()
        since = _when(request, "from", self.zone, end_of_day=False)
        until = _when(request, "to", self.zone, end_of_day=True)
        since = since or _midnight(today, self.zone)
        until = until or _midnight(since.astimezone(self.zone).date(), self.zone, 1)
        if until <= since:
            raise InvalidField("to", "must be after 'from'")
        return since, until


def _midnight(day: date, zone: tzinfo, plus_days: int = 0) -> datetime:
    return datetime.combine(day + timedelta(days=plus_days), time(), tzinfo=zone)


def _when(
    request: web.Request, name: str, zone: tzinfo, *, end_of_day: bool
) -> datetime | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == len("2026-01-05"):
            return _midnight(date.fromisoformat(raw), zone, 1 if end_of_day else 0)
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidField(
            name, f"not an ISO date or date-time: {raw[:40]!r}"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _numbers(request: web.Request) -> tuple[PhoneNumber, ...]:
    """One number, or two separated by a space (seed 004); "8 (925) 528-37-44"
    is one number written with spaces, so only two plausible parts count as two."""
    raw = request.query.get("q", "").strip()
    if not raw:
        return ()
    if len(raw) > MAX_QUERY:
        raise InvalidField("q", f"longer than {MAX_QUERY} characters")
    parts = [normalize(p) for p in raw.split()]
    if len(parts) == 2 and all(_plausible(p) for p in parts):
        return (parts[0], parts[1])
    whole = normalize(raw)
    if not _plausible(whole):
        raise InvalidField("q", f"not a phone number, nor two: {raw[:40]!r}")
    return (whole,)


def _plausible(number: PhoneNumber) -> bool:
    if number.kind is NumberKind.INTERNAL:
        return len(number.canonical) >= MIN_EXTENSION_DIGITS
    return number.kind is NumberKind.EXTERNAL


def _employee(request: web.Request) -> str:
    raw = _text(request, "employee", 32)
    if raw and normalize(raw).kind is not NumberKind.INTERNAL:
        raise InvalidField("employee", "must be an internal extension")
    return raw


def _text(request: web.Request, name: str, max_len: int) -> str:
    raw = request.query.get(name, "").strip()
    if len(raw) > max_len:
        raise InvalidField(name, f"longer than {max_len} characters")
    return raw


def _bool(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name, "").strip().lower()
    if not raw:
        return None
    if raw not in _BOOL:
        raise InvalidField(name, "must be true or false")
    return _BOOL[raw]


def _enum(request: web.Request, name: str, kind: Any, default: Any) -> Any:
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidField(name, f"must be one of: {allowed}") from None


def _declare(core: Core) -> None:
    api = core.openapi
    period = [
        query_param("from", {"type": "string"}, "ISO date or date-time; default today"),
        query_param("to", {"type": "string"}, "ISO date (inclusive) or date-time"),
    ]
    filters = [
        query_param("q", {"type": "string"}, "a number, or two (answered between)"),
        *period,
        query_param("linkedid", {"type": "string"}),
        query_param("direction", {"enum": [d.value for d in Direction]}),
        query_param("missed", {"type": "boolean"}),
        query_param("employee", {"type": "string"}, "an extension: 'my calls'"),
    ]
    api.add(
        "GET", "/api/v1/calls", summary="Call journal legs, newest first",
        parameters=[
            *filters,
            query_param("limit", {"type": "integer", "minimum": 1,
                                  "maximum": MAX_PAGE}),
            query_param("offset", {"type": "integer", "minimum": 0}),
        ],
        responses={200: CallsPage, 400: None, 401: None, 403: None},
    )  # fmt: skip
    api.add(
        "GET", "/api/v1/calls/export", summary="The filtered journal as CSV",
        parameters=filters,
        responses={200: Media(("text/csv",)), 400: None, 401: None, 403: None},
    )  # fmt: skip
    api.add(
        "GET", "/api/v1/calls/{linkedid}", summary="One call with its legs in order",
        parameters=[_path_param("linkedid")],
        responses={200: CallOut, 401: None, 403: None, 404: None},
    )  # fmt: skip
    api.add(
        "GET", "/api/v1/calls/{id}/recording", summary="A leg's recording (mp3/wav)",
        parameters=[_path_param("id", {"type": "integer"})],
        responses={
            200: Media(("audio/mpeg", "audio/wav", "audio/x-wav")),
            401: None,
            404: None,
        },
    )  # fmt: skip
    api.add(
        "GET", "/api/v1/stats/calls", summary="Call counts, shares, talk and wait",
        parameters=[
            *period,
            query_param("bucket", {"enum": [b.value for b in Bucket]}),
            query_param("group_by", {"enum": [g.value for g in GroupBy]}),
        ],
        responses={200: StatsOut, 400: None, 401: None, 403: None},
    )  # fmt: skip


def _path_param(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema or {"type": "string"},
    }
