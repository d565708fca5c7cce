"""The smart IVR in MIKO's words: `getivrtext` as ModuleSmartIVR ("2.0") reads it.

ModuleSmartIVR asks the crmd listener for `{tts_service, dictor, texttospeech[]}`
and synthesizes the fragments itself (research anchor-smart-ivr.md §4.3). We answer
from the local menu, so an unmodified module gets the same personal greeting our own
FastAGI hook plays. The incumbent also sent TTS credentials in every answer (and its
logs printed them); we send them only when `ivr.send_tts_credentials` is on.
"""

from __future__ import annotations

import asyncio
from typing import Any

from smart_ivr.service import IvrService
from tts_cache.config import TtsConfig

# Our provider names as ModuleSmartIVR spells its services.
SERVICE_NAMES = {"yandex": "Yandex", "stc": "CRT", "espeak": "espeak"}


class MikoIvrText:
    def __init__(
        self,
        service: IvrService,
        tts: TtsConfig,
        voice: str,
        *,
        send_credentials: bool,
        deadline_seconds: float,
    ) -> None:
        self._service = service
        self._tts = tts
        self._voice = voice
        self._send_credentials = send_credentials
        self._deadline = deadline_seconds

    async def __call__(self, number: str) -> dict[str, Any]:
        async with asyncio.timeout(self._deadline):
            menu = await self._service.menu(number)
        data: dict[str, Any] = {
            "tts_service": SERVICE_NAMES[self._tts.provider],
            "dictor": self._voice,
            "texttospeech": list(menu.fragments),
        }
        if self._send_credentials:
            data.update(self._credentials())
        return data

    def _credentials(self) -> dict[str, Any]:
        if self._tts.provider == "yandex":
            return {"api_key": self._tts.yandex.api_key.get_secret_value()}
        if self._tts.provider == "stc":
            stc = self._tts.stc
            return {
                "auth": {
                    "username": stc.username,
                    "password": stc.password.get_secret_value(),
                    "domain_id": stc.domain_id,
                }
            }
        return {}
