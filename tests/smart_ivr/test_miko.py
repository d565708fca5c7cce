"""getivrtext on the crmd listener, answered from the local menu in the shape
ModuleSmartIVR ("2.0") reads (research anchor-smart-ivr.md §4.3)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bridge.service import running
from jobs.routing_table.ranking import Interaction
from jobs.routing_table.store import RoutingStore
from tests.conftest import make_config

CALLER = "+79161234567"
KEY = "yandex-api-key-in-config"


async def ivr_text(tmp_path: Path, **sections: Any) -> dict[str, Any]:
    async with running(make_config(tmp_path, **sections)) as (core, where):
        store = RoutingStore(core.db)
        now = core.clock.now()
        docs = [Interaction(CALLER, "201", "calls", now - timedelta(days=1), 2)]
        await store.add(docs)
        assert where.crmd is not None
        url = "http://{}:{}/getivrtext".format(*where.crmd)
        async with (
            aiohttp.ClientSession() as s,
            s.get(url, params={"number": "89161234567"}) as r,
        ):
            assert r.status == 200
            body: dict[str, Any] = await r.json()
    return body


async def test_getivrtext_answers_locally_in_mikos_shape(tmp_path: Path) -> None:
    body = await ivr_text(tmp_path)
    assert body["result"] == "Success"
    data = body["data"]
    assert data["tts_service"] == "espeak"
    assert (
        data["texttospeech"][1] == "Ваш менеджер сотрудник с добавочным 201, нажмите 1."
    )
    assert "api_key" not in data
    assert "auth" not in data


async def test_credentials_go_out_only_when_the_config_says_so(tmp_path: Path) -> None:
    yandex = {"provider": "yandex", "yandex": {"api_key": KEY}}
    kept = await ivr_text(tmp_path / "a", tts=yandex)
    assert KEY not in str(kept)
    assert kept["data"]["tts_service"] == "Yandex"
    sent = await ivr_text(
        tmp_path / "b", tts=yandex, ivr={"send_tts_credentials": True}
    )
    assert sent["data"]["api_key"] == KEY
