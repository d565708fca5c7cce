"""The smart IVR in an Asterisk dialplan, over FastAGI:

    exten => s,1,AGI(agi://127.0.0.1:4573/smartivr)
     same => n,Goto(internal,${TELEBRIDGE_IVR_DESTINATION},1)

The hook answers the channel only once the prompt is ready (the caller hears
ringback until then), plays it, reads keys, and leaves the destination in
TELEBRIDGE_IVR_DESTINATION (and why in TELEBRIDGE_IVR_REASON) for the dialplan.
Data or TTS failure or the deadline → the emergency destination without
answering; a destination that does not exist in the dialplan → the last resort.
"""

from __future__ import annotations

import logging

from pbx.asterisk.agi import AgiSession
from pbx.asterisk.agi_protocol import quote, set_variable
from smart_ivr.config import IvrConfig
from smart_ivr.dialogue import Collect, Dialogue, Route, RouteReason, max_digits_for
from smart_ivr.service import IvrService

log = logging.getLogger(__name__)
HOOK = "smartivr"
DESTINATION_VAR = "TELEBRIDGE_IVR_DESTINATION"
REASON_VAR = "TELEBRIDGE_IVR_REASON"


class SmartIvrHook:
    def __init__(self, service: IvrService, config: IvrConfig) -> None:
        self._service = service
        self._config = config

    async def __call__(self, session: AgiSession) -> None:
        try:
            route = await self._converse(session)
        except Exception:
            # Even a broken conversation leaves the caller a way on.
            log.exception("smart IVR hook failed; sending the call to the last resort")
            route = Route(self._config.last_resort_destination, RouteReason.LAST_RESORT)
        await session.command(set_variable(DESTINATION_VAR, route.destination))
        await session.command(set_variable(REASON_VAR, route.reason.value))

    async def _converse(self, session: AgiSession) -> Route:
        answer = await self._service.answer(session.request.caller_number)
        prompt = None if answer.fallback else answer.prompt
        dialogue = Dialogue(
            answer.menu,
            prompt.path if prompt else None,
            attempts=self._config.attempts,
            timeout_ms=self._config.digit_timeout_ms,
            max_digits=max_digits_for(answer.menu),
            last_resort=self._config.last_resort_destination,
            resolves=lambda dest: self._exists(session, dest),
        )
        action = await dialogue.start()
        if isinstance(action, Collect):
            await session.command(b"ANSWER\n")
        while isinstance(action, Collect):
            keys = await self._collect(session, action)
            action = await dialogue.on_keys(keys)
        return action

    async def _collect(self, session: AgiSession, step: Collect) -> str:
        line = f"GET DATA {quote(step.prompt)} {step.timeout_ms} {step.max_digits}\n"
        return (await session.reply(line.encode())).raw

    async def _exists(self, session: AgiSession, destination: str) -> bool:
        if not destination.isdigit() and not destination.replace("*", "").isdigit():
            return False
        context = self._config.dialplan_context
        expr = f"${{DIALPLAN_EXISTS({context},{destination},1)}}"
        reply = await session.reply(f"GET FULL VARIABLE {quote(expr)}\n".encode())
        return reply.data.strip() == "1"
