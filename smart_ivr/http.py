"""The IVR over HTTP: the PBX's menu, the admin preview, and MIKO's getivrtext."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from bridge.errors import InvalidField, NotFound
from bridge.http.auth import check_admin
from bridge.http.openapi import Media, OpenApi, query_param
from smart_ivr.prompts import PROMPTS_PATH
from smart_ivr.schemas import IvrMenuOut, menu_out
from smart_ivr.service import IvrService

IVR_SERVICE = web.AppKey("ivr_service", IvrService)
ADMIN_TOKEN = web.AppKey("ivr_admin_token", str)
PROMPT_DIR = web.AppKey("ivr_prompt_dir", Path)
MAX_NUMBER = 64
# What FileResponse names the cache's formats (.wav, .sln, .alaw, .ulaw).
PROMPT_MEDIA = ("audio/x-wav", "audio/wav", "application/octet-stream")


def add_routes(app: web.Application, openapi: OpenApi) -> None:
    app.router.add_get("/api/v1/ivr", ivr_menu)
    app.router.add_get("/api/v1/ivr/preview", ivr_preview)
    app.router.add_get(PROMPTS_PATH + "/{name:.+}", ivr_prompt_file)
    number = query_param("number", {"type": "string"}, "the caller, any format")
    openapi.add(
        "GET",
        "/api/v1/ivr",
        summary="The personal menu for a caller, for the PBX",
        parameters=[number, query_param("did", {"type": "string"}, "incoming line")],
        responses={200: IvrMenuOut, 400: None, 401: None},
    )
    openapi.add(
        "GET",
        PROMPTS_PATH + "/{name}",
        summary="A greeting's audio, for Asterisk's Playback(http://...)",
        parameters=[
            {
                "name": "name",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            }
        ],
        responses={200: Media(PROMPT_MEDIA), 404: None},
        secured=False,
    )
    openapi.add(
        "GET",
        "/api/v1/ivr/preview",
        summary="The menu a caller would hear, with reasons, for admins",
        parameters=[number],
        responses={200: IvrMenuOut, 400: None, 401: None},
    )


def _number(request: web.Request) -> str:
    number = request.query.get("number", "")
    if len(number) > MAX_NUMBER:
        raise InvalidField("number", f"longer than {MAX_NUMBER} characters")
    # An unknown or malformed number is a new client, not an error (PRODUCT §7).
    return number


async def ivr_menu(request: web.Request) -> web.Response:
    check_admin(request, request.app[ADMIN_TOKEN])
    service = request.app[IVR_SERVICE]
    answer = await service.answer(_number(request), request.query.get("did", ""))
    return web.json_response(menu_out(answer).model_dump(mode="json"))


async def ivr_preview(request: web.Request) -> web.Response:
    check_admin(request, request.app[ADMIN_TOKEN])
    answer = await request.app[IVR_SERVICE].answer(_number(request))
    return web.json_response(menu_out(answer, preview=True).model_dump(mode="json"))


async def ivr_prompt_file(request: web.Request) -> web.StreamResponse:
    """A prompt for Asterisk's `Playback(http://...)`: unauthenticated (the PBX
    sends no token), content-addressed names, confined to the audio folder."""
    folder = request.app[PROMPT_DIR]
    wanted = (folder / request.match_info["name"]).resolve()
    inside = wanted.is_relative_to(folder.resolve())
    if not inside or not await asyncio.to_thread(wanted.is_file):
        raise NotFound("no such prompt", error_id="no-such-prompt")
    return web.FileResponse(wanted)
