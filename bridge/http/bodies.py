"""Reading and validating request bodies and query parameters at the edge."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bridge.errors import InvalidField, InvalidJson, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)


async def read_json(request: web.Request) -> Any:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(exc.text or "request body is over the limit") from None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidJson(f"request body is not valid JSON: {exc}") from None


async def read_model(request: web.Request, model: type[M]) -> M:
    """Parse the body into `model`; unknown fields and wrong types name the field."""
    data = await read_json(request)
    return validate(model, data)


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_field(exc) from None


def invalid_field(exc: ValidationError, prefix: str = "") -> InvalidField:
    """The first problem, naming its field (under `prefix` for nested objects)."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    field = prefix + loc if loc else prefix.rstrip(".") or "body"
    reason = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
    return InvalidField(field, reason)


def query_int(
    request: web.Request, name: str, default: int, *, lo: int, hi: int
) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidField(name, f"must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise InvalidField(name, f"must be between {lo} and {hi}, got {value}")
    return value
