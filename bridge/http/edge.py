"""The service's own endpoints: /healthz, /metrics, /api/v1/openapi.json."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    ProcessCollector,
    generate_latest,
)

from bridge import __version__
from bridge.health import HealthRegistry, is_ready
from bridge.http.openapi import OpenApi

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HEALTH = web.AppKey("health", HealthRegistry)
REGISTRY = web.AppKey("metrics_registry", CollectorRegistry)
OPENAPI = web.AppKey("openapi", OpenApi)


class RequestCounter:
    """`telebridge_http_requests`, with each label set's child kept at hand:
    `labels()` validates and locks on every call, per response on the hot path."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._counter = Counter(
            "telebridge_http_requests",
            "HTTP requests answered, by route and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self._children: dict[tuple[str, str, int], Counter] = {}

    def count(self, request: web.Request, status: int) -> None:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        key = (request.method, route, status)
        child = self._children.get(key)
        if child is None:
            child = self._counter.labels(request.method, route, str(status))
            self._children[key] = child
        child.inc()


REQUESTS = web.AppKey("http_requests_counter", RequestCounter)


def setup_edge(
    app: web.Application,
    health: HealthRegistry,
    registry: CollectorRegistry,
    openapi: OpenApi,
) -> None:
    app[HEALTH] = health
    app[REGISTRY] = registry
    app[OPENAPI] = openapi
    app[REQUESTS] = RequestCounter(registry)
    Gauge(
        "telebridge_build_info",
        "Version of the running service",
        ["version"],
        registry=registry,
    ).labels(__version__).set(1)
    ProcessCollector(registry=registry)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/v1/openapi.json", openapi_document)


async def healthz(request: web.Request) -> web.Response:
    """Liveness (we answer at all) and readiness (configured components are up).

    `?ready` turns a not-ready answer into 503, for load balancers.
    """
    components = await request.app[HEALTH].collect()
    ready = is_ready(components)
    body = {
        "status": "ok" if ready else "degraded",
        "live": True,
        "ready": ready,
        "version": __version__,
        "components": {k: v.as_json() for k, v in components.items()},
    }
    status = 503 if "ready" in request.query and not ready else 200
    return web.json_response(body, status=status)


async def metrics(request: web.Request) -> web.Response:
    payload = generate_latest(request.app[REGISTRY])
    return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI].document())
