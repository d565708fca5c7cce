"""A fake 1C base running the "Онлайн обмен контактными данными" job.

It stands in for the 1C side of the contact-data channel as documented in
`docs/contact-channel.md`: long-poll `GET /api/v1/contacts/requests`, answer each
request with `POST /api/v1/contacts/responses`, poll again. The answers come from
a function the test gives, so a test decides what "1C" knows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

# kind, payload -> {"data": {...}} or {"error": "..."}, or None to stay silent.
Answerer = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any] | None]]


class FakeOneC:
    def __init__(self, base_url: str, token: str, answerer: Answerer) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.answerer = answerer
        self.seen: list[dict[str, Any]] = []
        self.answer_statuses: list[int] = []
        self.polling = asyncio.Event()

    async def run(self, session: aiohttp.ClientSession, wait: int = 5) -> None:
        url = f"{self.base_url}/api/v1/contacts/requests"
        while True:
            self.polling.set()
            async with session.get(
                url, params={"wait": wait}, headers=self.headers
            ) as r:
                r.raise_for_status()
                batch = await r.json()
            for request in batch["requests"]:
                self.seen.append(request)
                answer = await self.answerer(request["kind"], request["payload"])
                if answer is not None:
                    await self.respond(session, request["id"], answer)

    async def respond(
        self, session: aiohttp.ClientSession, request_id: str, answer: dict[str, Any]
    ) -> None:
        url = f"{self.base_url}/api/v1/contacts/responses"
        body = {"id": request_id, **answer}
        async with session.post(url, json=body, headers=self.headers) as r:
            self.answer_statuses.append(r.status)


@asynccontextmanager
async def running_onec(
    base_url: str, token: str, answerer: Answerer
) -> AsyncIterator[FakeOneC]:
    """The fake 1C polling in the background until the block ends."""
    onec = FakeOneC(base_url, token, answerer)
    async with aiohttp.ClientSession() as session:
        task = asyncio.create_task(onec.run(session))
        try:
            async with asyncio.timeout(5):
                await onec.polling.wait()
            yield onec
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
