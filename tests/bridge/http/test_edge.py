"""The HTTP edge over real sockets: health, metrics, one error shape, body limit."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from pydantic import BaseModel, ConfigDict

from bridge.app import build_app
from bridge.config import Config
from bridge.core import Core, open_core
from bridge.errors import Conflict
from bridge.health import ComponentStatus, State
from bridge.http.bodies import query_int, read_model
from bridge.http.middleware import REQUEST_ID_HEADER
from bridge.storage import migrate
from tests.conftest import RunningService, make_config


class Echo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    count: int


def echo_feature(app: web.Application, core: Core) -> None:
    """A feature used only here, to drive the edge with bodies and domain errors."""

    async def echo(request: web.Request) -> web.Response:
        body = await read_model(request, Echo)
        limit = query_int(request, "limit", 10, lo=1, hi=100)
        return web.json_response(
            {"name": body.name, "count": body.count, "limit": limit}
        )

    async def boom(_request: web.Request) -> web.Response:
        raise RuntimeError("secret internals must not leak")

    async def busy(_request: web.Request) -> web.Response:
        raise Conflict("job is already running", error_id="job-running")

    app.router.add_post("/api/v1/echo", echo)
    app.router.add_get("/api/v1/boom", boom)
    app.router.add_get("/api/v1/busy", busy)


@pytest.fixture
async def client(tmp_path: Path, aiohttp_client):
    config = make_config(tmp_path, http={"max_body_bytes": 2048})
    async with open_core(config) as core:
        await migrate.upgrade(core.db)
        yield await aiohttp_client(build_app(core, features=(echo_feature,)))


async def test_healthz_reports_every_standard_component(
    service: RunningService,
) -> None:
    async with aiohttp.ClientSession() as s, s.get(service.url + "/healthz") as r:
        body = await r.json()
    assert r.status == 200
    assert body["live"] is True
    assert body["ready"] is True
    assert body["components"]["database"]["state"] == "ok"
    for name in ("pbx", "onec", "scheduler", "channels"):
        assert name in body["components"]


async def test_given_component_down_when_asking_readiness_then_503(
    config: Config,
) -> None:
    async with open_core(config) as core:
        await migrate.upgrade(core.db)

        async def down() -> ComponentStatus:
            return ComponentStatus(State.DOWN, "AMI login failed")

        def feature(app: web.Application, c: Core) -> None:
            c.health.register("pbx", down)

        app = build_app(core, features=(feature,))
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            async with aiohttp.ClientSession() as s:
                async with s.get(f"http://127.0.0.1:{port}/healthz") as live:
                    assert live.status == 200
                    assert (await live.json())["components"]["pbx"]["detail"] == (
                        "AMI login failed"
                    )
                async with s.get(f"http://127.0.0.1:{port}/healthz?ready") as ready:
                    assert ready.status == 503
        finally:
            await runner.cleanup()


async def test_metrics_are_prometheus_text(service: RunningService) -> None:
    async with aiohttp.ClientSession() as s:
        await (await s.get(service.url + "/healthz")).read()
        async with s.get(service.url + "/metrics") as r:
            text = await r.text()
    assert r.headers["Content-Type"].startswith("text/plain")
    assert (
        'telebridge_http_requests_total{method="GET",route="/healthz",status="200"}'
        in text
    )
    assert "telebridge_build_info" in text


async def test_openapi_document_is_served(service: RunningService) -> None:
    async with (
        aiohttp.ClientSession() as s,
        s.get(service.url + "/api/v1/openapi.json") as r,
    ):
        doc = await r.json()
    assert doc["openapi"].startswith("3.")
    assert "Error" in doc["components"]["schemas"]


@pytest.mark.parametrize(
    ("method", "path", "status", "error_id"),
    [
        ("GET", "/nowhere", 404, "not-found"),
        ("DELETE", "/healthz", 405, "method-not-allowed"),
        ("GET", "/api/v1/boom", 500, "internal"),
        ("GET", "/api/v1/busy", 409, "job-running"),
    ],
)
async def test_every_error_has_one_shape(
    client, method, path, status, error_id
) -> None:
    r = await client.request(method, path)
    body = await r.json()
    assert r.status == status
    assert set(body) == {"error"}
    assert body["error"]["id"] == error_id
    assert isinstance(body["error"]["message"], str)
    assert "secret internals" not in await r.text()


@pytest.mark.parametrize(
    ("data", "query", "status", "error_id", "field"),
    [
        (b"{not json", "", 400, "invalid-json", None),
        (b'{"name": "a", "count": "many"}', "", 400, "invalid-field", "count"),
        (b'{"name": "a", "count": 1, "extra": 1}', "", 400, "invalid-field", "extra"),
        (b'{"count": 1}', "", 400, "invalid-field", "name"),
        (b'{"name": "a", "count": 1}', "?limit=0", 400, "invalid-field", "limit"),
        (b'{"name": "a", "count": 1}', "?limit=x", 400, "invalid-field", "limit"),
        (
            b'{"name": "' + b"a" * 4096 + b'", "count": 1}',
            "",
            413,
            "body-too-large",
            None,
        ),
    ],
)
async def test_bad_input_gets_a_stable_error_id(
    client, data, query, status, error_id, field
) -> None:
    r = await client.post("/api/v1/echo" + query, data=data)
    body = await r.json()
    assert r.status == status
    assert body["error"]["id"] == error_id
    if field:
        assert body["error"]["details"]["field"] == field
    good = await client.post("/api/v1/echo", json={"name": "a", "count": 2})
    assert good.status == 200, "the service keeps serving after bad input"
    assert await good.json() == {"name": "a", "count": 2, "limit": 10}


async def test_request_id_is_echoed_or_made(client) -> None:
    given = await client.get("/healthz", headers={REQUEST_ID_HEADER: "abc-123"})
    assert given.headers[REQUEST_ID_HEADER] == "abc-123"
    made = await client.get("/healthz")
    assert len(made.headers[REQUEST_ID_HEADER]) == 32
