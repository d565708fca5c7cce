"""PBX operations on the HTTP API: click-to-call (`POST /api/v1/calls/originate`)."""

from __future__ import annotations

import hmac

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bridge.core import Core
from bridge.errors import Conflict, Forbidden, ServiceUnavailable, Unauthorized
from bridge.http.auth import bearer_token
from bridge.http.bodies import read_model
from bridge.longpoll.consumer_auth import ConsumerKind
from pbx.base import OriginateRejected, PbxAdapter, PbxTimeout, PbxUnavailable

ORIGINATE_PATH = "/api/v1/calls/originate"


class OriginateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    from_extension: str = Field(pattern=r"^[0-9]{1,10}$", description="employee")
    to_number: str = Field(
        pattern=r"^\+?[0-9][0-9 ()\-]{0,30}$", description="the client's number"
    )


class OriginateResponse(BaseModel):
    outcome: str = Field(description="answered, no-answer, busy, hung-up, ...")
    uniqueid: str = Field(description="the employee's channel, if created")
    detail: str = ""


def setup_routes(app: web.Application, core: Core, pbx: PbxAdapter) -> None:
    async def handle(request: web.Request) -> web.Response:
        await _check_caller(request, core)
        body = await read_model(request, OriginateRequest)
        try:
            result = await pbx.originate(body.from_extension, body.to_number)
        except PbxUnavailable as exc:
            raise ServiceUnavailable(str(exc), error_id="pbx-unavailable") from None
        except PbxTimeout as exc:
            raise ServiceUnavailable(str(exc), error_id="pbx-timeout") from None
        except OriginateRejected as exc:
            raise Conflict(
                f"the PBX refused the call: {exc}", error_id="originate-rejected"
            ) from None
        reply = OriginateResponse(
            outcome=result.outcome.value, uniqueid=result.uniqueid, detail=result.detail
        )
        return web.json_response(reply.model_dump())

    app.router.add_post(ORIGINATE_PATH, handle)
    core.openapi.add(
        "POST",
        ORIGINATE_PATH,
        summary="Click-to-call: ring the employee, then dial the client",
        body=OriginateRequest,
        responses={
            200: OriginateResponse,
            400: None,
            401: None,
            403: None,
            409: None,
            503: None,
        },
    )


async def _check_caller(request: web.Request, core: Core) -> None:
    """The admin token, or the token of a 1C (`onec`) consumer."""
    token = bearer_token(request)
    if token is None:
        raise Unauthorized()
    if hmac.compare_digest(token.encode(), core.admin_token.encode()):
        return
    consumer = await core.consumers.authenticate(token) if core.consumers else None
    if consumer is None:
        raise Unauthorized()
    if consumer.kind is not ConsumerKind.ONEC:
        raise Forbidden("only a 1C base or the admin may place calls")
