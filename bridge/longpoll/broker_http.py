"""HTTP side of the contact channel: 1C polls and answers; panels authorize.

GET  /api/v1/contacts/requests?wait=&limit=   1C consumers (bearer, kind onec)
POST /api/v1/contacts/responses               1C consumers (bearer, kind onec)
POST /api/v1/panel/auth                       a panel without a token yet
GET  /api/v1/panel/contact-card?number=       any consumer (bearer)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bridge.errors import (
    ApiError,
    Conflict,
    Forbidden,
    InvalidField,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from bridge.http.auth import bearer_token
from bridge.http.bodies import invalid_field, query_int, read_model
from bridge.http.openapi import OpenApi, query_param
from bridge.longpoll import broker as b
from bridge.longpoll.channel import CHANNEL, ContactChannel
from bridge.longpoll.consumer_auth import Consumer, ConsumerKind, Consumers
from bridge.longpoll.panel_auth import PinGuard
from bridge.phone_numbers import NumberKind, normalize

log = logging.getLogger(__name__)
REQUESTS_PATH = "/api/v1/contacts/requests"
RESPONSES_PATH = "/api/v1/contacts/responses"
PANEL_AUTH_PATH = "/api/v1/panel/auth"
CONTACT_CARD_PATH = "/api/v1/panel/contact-card"


# -- bodies -------------------------------------------------------------------


class ContactRequestOut(BaseModel):
    id: str
    kind: b.RequestKind
    payload: dict[str, Any]
    # After this moment the asker has its fallback; answering is pointless.
    deadline: datetime


class ContactRequestBatch(BaseModel):
    requests: list[ContactRequestOut]


class ContactResponseIn(BaseModel):
    """1C's answer to one request: `data` on success, or `error` with a reason."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    data: dict[str, Any] | None = None
    error: str | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_of(self) -> ContactResponseIn:
        if (self.data is None) == (self.error is None):
            raise ValueError("exactly one of 'data' and 'error' is required")
        return self


class ContactResponseAccepted(BaseModel):
    id: str
    accepted: bool = True


class CallerIdData(BaseModel):
    """caller_id answer: the name phones show, and the counterparty."""

    model_config = ConfigDict(extra="forbid")
    caller_id: str = Field(default="", max_length=200)
    client: str = Field(default="", max_length=200)


class PanelAuthData(BaseModel):
    """panel_auth answer: whether the PIN is right, and the 1C user it belongs to."""

    model_config = ConfigDict(extra="forbid")
    authorized: bool
    user_id: str = Field(default="", max_length=64)
    user_name: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _user_when_authorized(self) -> PanelAuthData:
        if self.authorized and not self.user_id:
            raise ValueError("user_id is required when authorized is true")
        return self


# Answers whose shape the bridge relies on; other kinds pass 1C's object through.
ANSWER_MODELS: dict[b.RequestKind, type[BaseModel]] = {
    b.RequestKind.CALLER_ID: CallerIdData,
    b.RequestKind.PANEL_AUTH: PanelAuthData,
}


class PanelAuthIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    extension: str = Field(min_length=1, max_length=16)
    pin: str = Field(pattern=r"^[0-9]{4,12}$")


class PanelAuthOut(BaseModel):
    token: str
    extension: str
    user_id: str
    user_name: str = ""


class ContactCardOut(BaseModel):
    number: str
    found: bool
    # What 1C sent for the banner, as it sent it; null when not found or no answer.
    card: dict[str, Any] | None
    # "1c" when 1C answered, "fallback" when it did not in time (see detail).
    source: str
    detail: str = ""


# -- handlers -----------------------------------------------------------------


class ContactHttp:
    def __init__(
        self,
        channel: ContactChannel,
        consumers: Callable[[], Consumers | None],
        guard: PinGuard,
        registry: CollectorRegistry,
    ) -> None:
        self.channel = channel
        self.consumers = consumers
        self.guard = guard
        self._auth_failures = Counter(
            "telebridge_panel_auth_failures",
            "Panel authorizations refused, by reason",
            ["reason"],
            registry=registry,
        )

    async def poll(self, request: web.Request) -> web.Response:
        consumer = await self._onec_consumer(request)
        self._check_open()
        cfg = self.channel.config
        wait = query_int(
            request, "wait", cfg.default_wait_seconds, lo=0, hi=cfg.max_wait_seconds
        )
        limit = query_int(request, "limit", cfg.max_batch, lo=1, hi=cfg.max_batch)
        batch = await self.channel.broker.take(
            consumer.name, wait=wait, limit=limit, alive=_alive(request)
        )
        out = ContactRequestBatch(
            requests=[
                ContactRequestOut(
                    id=r.id, kind=r.kind, payload=r.payload, deadline=r.deadline
                )
                for r in batch
            ]
        )
        return web.json_response(text=out.model_dump_json())

    async def respond(self, request: web.Request) -> web.Response:
        consumer = await self._onec_consumer(request)
        body = await read_model(request, ContactResponseIn)
        pending = self.channel.broker.get(body.id)
        outcome: b.Answered | b.Refused
        if body.error is not None:
            outcome = b.Refused(body.error)
        else:
            data = body.data or {}
            model = ANSWER_MODELS.get(pending.kind) if pending else None
            if model is not None:
                data = _checked(model, data)
            outcome = b.Answered(data)
        try:
            self.channel.broker.answer(consumer.name, body.id, outcome)
        except b.AnswerError as exc:
            raise _answer_error(exc) from None
        return web.json_response(
            text=ContactResponseAccepted(id=body.id).model_dump_json()
        )

    async def panel_auth(self, request: web.Request) -> web.Response:
        body = await read_model(request, PanelAuthIn)
        number = normalize(body.extension)
        if number.kind is not NumberKind.INTERNAL or number.canonical != body.extension:
            raise InvalidField("extension", "must be an internal extension (digits)")
        extension = number.canonical
        consumers = self.consumers()
        if consumers is None:
            raise ServiceUnavailable(
                "panel tokens cannot be issued: the consumer registry is not running",
                error_id="consumers-unavailable",
            )
        self._admit(extension)
        try:
            outcome = await self.channel.ask(
                b.RequestKind.PANEL_AUTH, {"extension": extension, "pin": body.pin}
            )
        finally:
            self.guard.done(extension)
        # No await between `done` and recording the result: no other attempt can
        # slip in between.
        answer = self._auth_answer(extension, outcome)
        self.guard.succeeded(extension)
        token = await consumers.issue_panel_token(extension, answer.user_id)
        log.info(
            "panel authorized for extension %s (1C user %s)", extension, answer.user_id
        )
        out = PanelAuthOut(
            token=token,
            extension=extension,
            user_id=answer.user_id,
            user_name=answer.user_name,
        )
        return web.json_response(text=out.model_dump_json())

    async def contact_card(self, request: web.Request) -> web.Response:
        await self._consumer(request)
        raw = request.query.get("number", "")
        number = normalize(raw)
        if number.kind is NumberKind.UNKNOWN:
            raise InvalidField("number", f"not a phone number: {raw!r}")
        outcome = await self.channel.ask(
            b.RequestKind.CONTACT_CARD, {"number": number.canonical}
        )
        if isinstance(outcome, b.Answered):
            out = ContactCardOut(
                number=number.canonical, found=True, card=outcome.data, source="1c"
            )
        elif isinstance(outcome, b.Refused):
            out = ContactCardOut(
                number=number.canonical,
                found=False,
                card=None,
                source="1c",
                detail=outcome.cause,
            )
        else:
            out = ContactCardOut(
                number=number.canonical,
                found=False,
                card=None,
                source="fallback",
                detail=outcome.detail,
            )
        return web.json_response(text=out.model_dump_json())

    # -- helpers --------------------------------------------------------------

    def _admit(self, extension: str) -> None:
        retry_after = self.guard.admit(extension)
        if retry_after is None:
            return
        self._auth_failures.labels("locked").inc()
        log.warning("panel auth for extension %s refused: locked out", extension)
        raise TooManyRequests(
            f"too many PIN attempts for extension {extension}; try again later",
            error_id="panel-auth-locked",
            headers={"Retry-After": str(retry_after)},
            details={"retry_after_seconds": retry_after},
        )

    def _auth_answer(self, extension: str, outcome: b.Outcome) -> PanelAuthData:
        if isinstance(outcome, b.Fallback):
            self._auth_failures.labels("no_answer").inc()
            raise ServiceUnavailable(
                f"1C did not confirm the PIN: {outcome.detail}",
                error_id="contact-channel-unavailable",
                retry_after=5,
            )
        if isinstance(outcome, b.Refused):
            self._auth_failures.labels("onec_error").inc()
            raise ApiError(
                f"1C could not check the PIN: {outcome.cause}",
                error_id="panel-auth-failed",
            )
        answer = PanelAuthData.model_validate(outcome.data)
        if answer.authorized:
            return answer
        self._auth_failures.labels("wrong_pin").inc()
        if self.guard.failed(extension):
            self._auth_failures.labels("lockout").inc()
            log.warning("extension %s locked out after repeated wrong PINs", extension)
        else:
            log.warning("wrong PIN for extension %s", extension)
        raise Forbidden("wrong PIN for this extension", error_id="panel-auth-denied")

    async def _consumer(self, request: web.Request) -> Consumer:
        consumers = self.consumers()
        if consumers is None:
            raise ServiceUnavailable(
                "the consumer registry is not running", error_id="consumers-unavailable"
            )
        token = bearer_token(request)
        consumer = await consumers.authenticate(token) if token else None
        if consumer is None:
            raise Unauthorized("a valid consumer token is required")
        return consumer

    async def _onec_consumer(self, request: web.Request) -> Consumer:
        consumer = await self._consumer(request)
        if consumer.kind is not ConsumerKind.ONEC:
            raise Forbidden(
                "only 1C consumers (kind onec) serve the contact channel",
                error_id="onec-consumer-required",
            )
        return consumer

    def _check_open(self) -> None:
        reason = self.channel.closed_reason()
        if reason is not None:
            raise ServiceUnavailable(
                f"the contact channel is closed: {reason}",
                error_id="channel-closed",
                retry_after=self.channel.config.closed_retry_after_seconds,
                details={"channel": CHANNEL, "reason": reason},
            )


def _alive(request: web.Request) -> b.Alive:
    def alive() -> bool:
        transport = request.transport
        return transport is not None and not transport.is_closing()

    return alive


def _checked(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    try:
        return model.model_validate(data).model_dump()
    except ValidationError as exc:
        raise invalid_field(exc, prefix="data.") from None


_ANSWER_ERRORS: dict[type[b.AnswerError], tuple[type[ApiError], str]] = {
    b.UnknownRequest: (NotFound, "contact-request-unknown"),
    b.LateAnswer: (Conflict, "contact-request-expired"),
    b.DuplicateAnswer: (Conflict, "contact-request-answered"),
    b.NotAssigned: (Conflict, "contact-request-not-yours"),
}


def _answer_error(exc: b.AnswerError) -> ApiError:
    error_type, error_id = _ANSWER_ERRORS[type(exc)]
    return error_type(str(exc), error_id=error_id, details={"id": exc.request_id})


def routes(app: web.Application, http: ContactHttp) -> None:
    app.router.add_get(REQUESTS_PATH, http.poll)
    app.router.add_post(RESPONSES_PATH, http.respond)
    app.router.add_post(PANEL_AUTH_PATH, http.panel_auth)
    app.router.add_get(CONTACT_CARD_PATH, http.contact_card)


def declare(openapi: OpenApi) -> None:
    openapi.add(
        "GET",
        REQUESTS_PATH,
        summary="1C long-polls for contact-data requests (each goes to one consumer)",
        parameters=[
            query_param("wait", {"type": "integer", "minimum": 0}, "seconds to hold"),
            query_param("limit", {"type": "integer", "minimum": 1}, "most requests"),
        ],
        responses={
            200: ContactRequestBatch,
            400: None,
            401: None,
            403: None,
            503: None,
        },
    )
    openapi.add(
        "POST",
        RESPONSES_PATH,
        summary="1C answers one contact-data request by id",
        body=ContactResponseIn,
        responses={
            200: ContactResponseAccepted,
            400: None,
            401: None,
            403: None,
            404: None,
            409: None,
            413: None,
            503: None,
        },
    )
    openapi.add(
        "POST",
        PANEL_AUTH_PATH,
        summary="A panel trades extension + PIN (checked by 1C) for a panel token",
        body=PanelAuthIn,
        responses={
            200: PanelAuthOut,
            400: None,
            403: None,
            413: None,
            429: None,
            500: None,
            503: None,
        },
        secured=False,
    )
    openapi.add(
        "GET",
        CONTACT_CARD_PATH,
        summary="The contact card 1C gives for a number (panel banner)",
        parameters=[query_param("number", {"type": "string"}, "any phone format")],
        responses={200: ContactCardOut, 400: None, 401: None, 503: None},
    )
