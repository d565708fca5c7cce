"""After the routing table's pre-warm, IVR calls ask the paid provider nothing.

Yandex SpeechKit is played by `FakeYandex` (REST v1 as documented) on a real port;
the service's app is built in-process so the test can run the routing job's
pre-warm step directly (the call-journal source that feeds the job is separate).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bridge.app import build_app
from bridge.core import open_core
from bridge.storage import migrate
from jobs.routing_table.feature import ROUTING_JOB
from jobs.routing_table.ranking import Interaction
from jobs.routing_table.store import RoutingStore
from tests.conftest import ADMIN_TOKEN, make_config
from tests.fakes.tts_servers import FakeYandex

KEY = "yandex-api-key-for-tests"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CALLERS = ["+79160000001", "+79160000002", "+79160000003"]


async def test_after_prewarm_a_day_of_calls_costs_nothing(
    tmp_path: Path, aiohttp_client, aiohttp_server
) -> None:
    fake = FakeYandex(api_key=KEY)
    server = await aiohttp_server(fake.app())
    config = make_config(
        tmp_path,
        tts={
            "provider": "yandex",
            "yandex": {
                "url": str(server.make_url("/speech/v1/tts:synthesize")),
                "api_key": KEY,
            },
        },
        ivr={"deadline_seconds": 10},
    )
    async with open_core(config) as core:
        await migrate.upgrade(core.db)
        app = build_app(core)
        client = await aiohttp_client(app)
        store = RoutingStore(core.db)
        now = core.clock.now()
        docs = [
            Interaction(caller, ext, "calls", now - timedelta(days=1), count)
            for i, caller in enumerate(CALLERS)
            for ext, count in (("201", 3 + i), ("202", 2), ("203", 1), ("204", i))
            if count
        ]
        await store.add(docs)

        warmed = await app[ROUTING_JOB].prewarm()  # type: ignore[misc]
        assert warmed > 0
        billed = len(fake.requests)
        assert billed == warmed

        for caller in [*CALLERS, "+79990000000", "garbage"] * 20:
            r = await client.get("/api/v1/ivr", params={"number": caller}, headers=AUTH)
            body = await r.json()
            assert r.status == 200
            assert body["fallback"] is None
            audio = await client.get(body["prompt"]["url"])
            assert audio.status == 200
            assert len(await audio.read()) > 1000
        assert len(fake.requests) == billed, "a warm day must not bill a phrase"


async def test_prompt_files_are_confined_to_the_audio_folder(
    tmp_path: Path, aiohttp_client
) -> None:
    async with open_core(make_config(tmp_path)) as core:
        await migrate.upgrade(core.db)
        client = await aiohttp_client(build_app(core))
        for name in ("../telebridge.db", "..%2F..%2Fadmin_token", "nope.wav"):
            r = await client.get(f"/api/v1/ivr/prompts/{name}")
            assert r.status == 404
            assert (await r.json())["error"]["id"] in ("no-such-prompt", "not-found")
            assert core.admin_token not in await r.text()
