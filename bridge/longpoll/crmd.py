"""Routes that answer like MIKO's crmd daemon on 127.0.0.1:8224.

Unmodified MikoPBX AGI scripts (`set-caller-id.php`) and ModuleSmartIVR in its
"2.0" mode call these with a 5 s curl timeout and read one envelope
(research `anchor-mikopbx-1c.md` §2.5, `anchor-smart-ivr.md` §4):

    {"result": "Success", "data": {...}}   or   {"result": "Error", "cause": "..."}

so every answer here, including bad input and faults, has that shape and comes
within `crmd.deadline_seconds`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bridge.contacts import ContactDirectory, ContactMatch
from bridge.http.middleware import Handler
from bridge.longpoll.broker import Answered, Outcome, Refused, RequestKind
from bridge.longpoll.channel import ContactAsker
from bridge.phone_numbers import NumberKind, normalize

log = logging.getLogger(__name__)
SUCCESS = "Success"
ERROR = "Error"
BAD_REQUEST = 400


class BadCrmdRequest(Exception):
    """The PBX's request is wrong in itself (400, in the crmd envelope)."""


IvrText = Callable[[str], Awaitable[dict[str, Any]]]


class CrmdRoutes:
    def __init__(
        self,
        asker: ContactAsker,
        contacts: Callable[[], ContactDirectory | None],
        *,
        deadline_seconds: float,
        relay_caller_id: bool,
    ) -> None:
        self._asker = asker
        self._contacts = contacts
        self._deadline = deadline_seconds
        self._relay_caller_id = relay_caller_id
        # Set by the smart IVR: menus answered here; 1C is asked only if it fails.
        self.ivr_text: IvrText | None = None

    async def getcallerid(self, request: web.Request) -> web.Response:
        number = _number(request)
        directory = self._contacts()
        if directory is not None:
            match = await _local(directory, number)
            if match is not None:
                return success(_caller_id(match))
        if not self._relay_caller_id:
            return error("contact not found")
        outcome = await self._asker.ask(
            RequestKind.CALLER_ID, _payload(request, number), self._deadline
        )
        return _relayed(outcome)

    async def getivrtext(self, request: web.Request) -> web.Response:
        number = _number(request)
        if self.ivr_text is not None:
            try:
                return success(await self.ivr_text(number))
            except Exception:
                log.exception("local IVR text failed; asking 1C instead")
        outcome = await self._asker.ask(
            RequestKind.IVR_TEXT, _payload(request, number), self._deadline
        )
        return _relayed(outcome)

    async def setcallbacknumber(self, request: web.Request) -> web.Response:
        raw = request.query.get("number", "")
        extension = normalize(raw)
        if extension.kind is not NumberKind.INTERNAL:
            raise BadCrmdRequest(f"number must be an extension, got {raw!r}")
        outcome = await self._asker.ask(
            RequestKind.IVR_CALLBACK_NUMBER,
            {"number": extension.canonical},
            self._deadline,
        )
        return _relayed(outcome)


async def _local(directory: ContactDirectory, number: str) -> ContactMatch | None:
    try:
        match = await directory.lookup(number)
    except Exception:
        # The local index is an optimization: a fault there must not cost the
        # PBX its answer, so fall through to 1C.
        log.exception("contact index lookup failed; asking 1C instead")
        return None
    return match if match is not None and match.owners else None


def success(data: dict[str, Any]) -> web.Response:
    return web.json_response({"result": SUCCESS, "data": data})


def error(cause: str, status: int = 200) -> web.Response:
    # 200 for "1C said no / did not answer": the PBX scripts branch on the body;
    # 4xx only for requests that are wrong in themselves.
    return web.json_response({"result": ERROR, "cause": cause}, status=status)


def _number(request: web.Request) -> str:
    raw = request.query.get("number", "")
    number = normalize(raw)
    if number.kind is NumberKind.UNKNOWN:
        raise BadCrmdRequest(f"number is missing or not a phone number: {raw!r}")
    return number.canonical


def _payload(request: web.Request, number: str) -> dict[str, str]:
    # 1C gets the normalized number and, for its own matching rules, the raw one.
    return {"number": number, "raw": request.query.get("number", "")}


def _caller_id(match: ContactMatch) -> dict[str, str]:
    first = match.owners[0]
    return {
        "caller_id": match.display_name,
        "client": first.parent_presentation or first.presentation,
    }


def _relayed(outcome: Outcome) -> web.Response:
    if isinstance(outcome, Answered):
        return success(outcome.data)
    if isinstance(outcome, Refused):
        return error(outcome.cause)
    return error(outcome.detail)


@web.middleware
async def crmd_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown paths, wrong methods and crashes still answer in the crmd envelope."""
    try:
        return await handler(request)
    except BadCrmdRequest as exc:
        return error(str(exc), BAD_REQUEST)
    except web.HTTPException as exc:
        return error(exc.reason, exc.status)
    except Exception:
        log.exception("crmd %s %s failed", request.method, request.path)
        return error("internal error", 500)


def routes(app: web.Application, crmd: CrmdRoutes) -> None:
    app.middlewares.append(crmd_errors)
    app.router.add_get("/getcallerid", crmd.getcallerid)
    app.router.add_get("/getivrtext", crmd.getivrtext)
    # The incumbent's clients POST with the number in the query; GET is accepted
    # too so an admin can try it from a browser.
    app.router.add_post("/setcallbacknumber", crmd.setcallbacknumber)
    app.router.add_get("/setcallbacknumber", crmd.setcallbacknumber)
