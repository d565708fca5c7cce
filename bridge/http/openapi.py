"""The OpenAPI document at /api/v1/openapi.json, assembled from what features declare.

Features describe each operation next to its handler; request and response bodies are
pydantic models, so the schema and the validation at the edge are the same object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["id", "message"],
            "properties": {
                "id": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}


@dataclass(frozen=True, slots=True)
class Media:
    """A response body that is a file (audio, CSV), in one of these media types."""

    content_types: tuple[str, ...]

    def content(self) -> dict[str, Any]:
        binary = {"schema": {"type": "string", "format": "binary"}}
        return {"content": dict.fromkeys(self.content_types, binary)}


Response = type[BaseModel] | dict[str, Any] | Media | None


class OpenApi:
    def __init__(self, title: str = "telebridge", version: str = "1") -> None:
        self._info = {"title": title, "version": version}
        self._paths: dict[str, dict[str, Any]] = {}
        self._schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        """Register `model` (and what it nests) and return a $ref to it."""
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, nested in schema.pop("$defs", {}).items():
            self._schemas[name] = nested
        self._schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def add(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        responses: dict[int, Response],
        body: type[BaseModel] | None = None,
        parameters: list[dict[str, Any]] | None = None,
        secured: bool = True,
    ) -> None:
        op: dict[str, Any] = {"summary": summary, "responses": {}}
        if parameters:
            op["parameters"] = parameters
        if body is not None:
            op["requestBody"] = _json_content(self.ref(body), required=True)
        if secured:
            op["security"] = [{"bearer": []}]
        for status, model in responses.items():
            op["responses"][str(status)] = self._response(status, model)
        op["responses"].setdefault("default", self._response(500, None))
        self._paths.setdefault(path, {})[method.lower()] = op

    def document(self) -> dict[str, Any]:
        return {
            "openapi": "3.1.0",
            "info": self._info,
            "paths": self._paths,
            "components": {
                "schemas": self._schemas,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
        }

    def _response(self, status: int, model: Response) -> dict[str, Any]:
        if isinstance(model, Media):
            return {"description": str(status), **model.content()}
        if status >= 400 and model is None:
            schema: dict[str, Any] | None = {"$ref": "#/components/schemas/Error"}
        elif isinstance(model, dict) or model is None:
            schema = model
        else:
            schema = self.ref(model)
        if schema is None:
            return {"description": str(status)}
        return {"description": str(status), **_json_content(schema)}


def query_param(
    name: str, schema: dict[str, Any], description: str = ""
) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "query", "schema": schema}
    if description:
        param["description"] = description
    return param


def _json_content(schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"content": {"application/json": {"schema": schema}}}
    if required:
        content["required"] = True
    return content
