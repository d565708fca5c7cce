"""Checking real responses against /api/v1/openapi.json.

`ContractClient` sends requests to the running service by *declared* path template,
validates every response body against the schema the document declares for that
operation and status (a status the document does not list is itself a failure;
only 500 may fall to "default"), validates successful request bodies against the
declared request schema, and records which operations were exercised, so a test
can demand that every declared operation was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

METHODS = ("get", "put", "post", "delete", "patch")


@dataclass
class Exchange:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Contract:
    document: dict[str, Any]
    exercised: set[tuple[str, str]] = field(default_factory=set)

    def operations(self) -> set[tuple[str, str]]:
        return {
            (method.upper(), path)
            for path, item in self.document["paths"].items()
            for method in item
            if method in METHODS
        }

    def operation(self, method: str, path: str) -> dict[str, Any]:
        item = self.document["paths"].get(path)
        assert item is not None, f"{path} is not declared in openapi.json"
        op = item.get(method.lower())
        assert op is not None, f"{method} {path} is not declared in openapi.json"
        return dict(op)

    def check_schemas(self) -> None:
        for name, schema in self.document["components"]["schemas"].items():
            try:
                Draft202012Validator.check_schema(schema)
            except Exception as exc:
                raise AssertionError(f"schema {name} is invalid: {exc}") from exc

    def check_request(self, method: str, path: str, body: Any) -> None:
        op = self.operation(method, path)
        request_body = op.get("requestBody")
        assert request_body is not None, f"{method} {path} declares no request body"
        schema = request_body["content"]["application/json"]["schema"]
        self._validate(schema, body, f"request of {method} {path}")

    def check_response(
        self, method: str, path: str, status: int, content_type: str, body: Any
    ) -> None:
        op = self.operation(method, path)
        responses = op["responses"]
        declared = responses.get(str(status))
        if declared is None:
            assert status == 500, (
                f"{method} {path} answered {status}, which openapi.json does not "
                f"declare (declared: {sorted(responses)})"
            )
            declared = responses["default"]
        self.exercised.add((method.upper(), path))
        content = declared.get("content")
        if content is None:
            return
        assert content_type in content, (
            f"{method} {path} {status}: declared {sorted(content)}, got {content_type}"
        )
        if content_type != "application/json":
            return
        schema = content["application/json"]["schema"]
        self._validate(schema, body, f"{method} {path} -> {status}")

    def _validate(self, schema: dict[str, Any], instance: Any, what: str) -> None:
        rooted = {**schema, "components": self.document["components"]}
        errors = sorted(
            Draft202012Validator(rooted).iter_errors(instance), key=lambda e: e.path
        )
        if errors:
            details = "; ".join(
                f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                for e in errors[:5]
            )
            raise AssertionError(f"{what} does not match openapi.json: {details}")


class ContractClient:
    """Calls the service by declared path template and checks each answer."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, contract: Contract
    ) -> None:
        self.session = session
        self.base_url = base_url
        self.contract = contract

    async def call(
        self,
        method: str,
        path: str,
        *,
        path_params: dict[str, str] | None = None,
        json_body: Any = None,
        raw_body: bytes | None = None,
        params: dict[str, str] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Exchange:
        url = self.base_url + path.format(**(path_params or {}))
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data: bytes | None = raw_body
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        async with self.session.request(
            method, url, data=data, params=params, headers=headers
        ) as r:
            raw = await r.read()
            status, content_type = r.status, r.content_type
            resp_headers = dict(r.headers)
        body = json.loads(raw) if content_type == "application/json" and raw else None
        self.contract.check_response(method, path, status, content_type, body)
        if json_body is not None and 200 <= status < 300:
            self.contract.check_request(method, path, json_body)
        return Exchange(status, body, resp_headers)
