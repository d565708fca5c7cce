"""`MikoCrmApi` connected on first use, for the long-poll hub's web-service mode.

Loading 1C's WSDL is network I/O; the hub is built synchronously at start, and 1C
may well be down then. So the SOAP client (`bridge.onec.soap`, from the optional
`soap` extra) is created by the first call, and a failed connect is an ordinary
`OneCUnavailable` that the pusher retries with its backoff.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bridge.config import Config
from bridge.onec.errors import OneCUnavailable
from bridge.onec.web_service import MikoCrmApi, OneCUser

if TYPE_CHECKING:
    from bridge.onec.soap import SoapMikoCrmApi


class LazyMikoCrmApi:
    def __init__(self, config: Config) -> None:
        self._onec = config.onec
        self._client: SoapMikoCrmApi | None = None
        self._connecting = asyncio.Lock()

    async def call_event(self, subject: str, data: str) -> None:
        await (await self._connected()).call_event(subject, data)

    async def user_list(self) -> list[OneCUser]:
        return await (await self._connected()).user_list()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _connected(self) -> SoapMikoCrmApi:
        async with self._connecting:
            if self._client is None:
                self._client = await self._connect()
            return self._client

    async def _connect(self) -> SoapMikoCrmApi:
        if not self._onec.soap_url:
            raise OneCUnavailable("onec.soap_url is empty")
        try:
            from bridge.onec.soap import SoapMikoCrmApi
        except ImportError:
            raise OneCUnavailable(
                "the SOAP client is not installed: pip install 'telebridge[soap]'"
            ) from None
        return await SoapMikoCrmApi.connect(
            self._onec.soap_url,
            username=self._onec.username,
            password=self._onec.password.get_secret_value(),
            timeout_seconds=self._onec.timeout_seconds,
            verify_tls=self._onec.verify_tls,
        )


def miko_crm_api(config: Config) -> MikoCrmApi:
    return LazyMikoCrmApi(config)
