"""Errors the HTTP edge turns into responses.

Every 4xx/5xx the service sends has one body shape,
``{"error": {"id": "<stable-kebab-id>", "message": "...", "details": {...}}}``.
Handlers raise an `ApiError` subclass; `bridge.http.middleware` renders it. Domain
modules keep their own exception trees and are translated into these where a handler
calls them. Messages and details never carry secrets.

    ApiError
    ├── BadRequest            400 bad-request
    │   ├── InvalidJson       400 invalid-json
    │   └── InvalidField      400 invalid-field (details.field names it)
    ├── Unauthorized          401 unauthorized
    ├── Forbidden             403 forbidden
    ├── NotFound             404 not-found
    ├── Conflict              409 conflict
    ├── PayloadTooLarge       413 body-too-large
    ├── TooManyRequests       429 too-many-requests
    └── ServiceUnavailable    503 unavailable (Retry-After when known)
"""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    status: ClassVar[int] = 500
    default_id: ClassVar[str] = "internal"

    def __init__(
        self,
        message: str,
        *,
        error_id: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_id = error_id or self.default_id
        self.details = details or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"id": self.error_id, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class BadRequest(ApiError):
    status = 400
    default_id = "bad-request"


class InvalidJson(BadRequest):
    default_id = "invalid-json"


class InvalidField(BadRequest):
    default_id = "invalid-field"

    def __init__(self, field: str, reason: str, *, error_id: str | None = None) -> None:
        super().__init__(
            f"{field}: {reason}", error_id=error_id, details={"field": field}
        )
        self.field = field


class Unauthorized(ApiError):
    status = 401
    default_id = "unauthorized"

    def __init__(self, message: str = "a valid bearer token is required") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    status = 403
    default_id = "forbidden"


class NotFound(ApiError):
    status = 404
    default_id = "not-found"


class Conflict(ApiError):
    status = 409
    default_id = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    default_id = "body-too-large"


class TooManyRequests(ApiError):
    status = 429
    default_id = "too-many-requests"


class ServiceUnavailable(ApiError):
    status = 503
    default_id = "unavailable"

    def __init__(
        self,
        message: str,
        *,
        error_id: str | None = None,
        retry_after: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        super().__init__(message, error_id=error_id, details=details, headers=headers)
