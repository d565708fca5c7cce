"""The Rostelecom webhooks in the whole service (`bridge.service.running`), on
real sockets, with the feature wired through `bridge.app.FEATURES`."""

from __future__ import annotations

import json
import logging

import aiohttp

from bridge.service import running
from pbx.vpbx.signature import sign
from tests.conftest import make_config

CLIENT_ID = "1874BAB574D929ECDD7C2880185FBF69"
KEY = "259D87F014309CD190E91AC53C9C39E0"


async def test_the_running_service_verifies_answers_and_counts(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    config = make_config(tmp_path, vpbx={"client_id": CLIENT_ID, "sign_key": KEY})
    body = json.dumps({"from_number": "+79161234567"}).encode()
    headers = {"X-Client-ID": CLIENT_ID, "X-Client-Sign": sign(CLIENT_ID, body, KEY)}
    async with running(config) as (_core, where), aiohttp.ClientSession() as http:
        base = "http://{}:{}".format(*where.http)
        async with http.post(f"{base}/vpbx/get_number_info", data=body) as resp:
            assert resp.status == 401
        url = f"{base}/vpbx/get_number_info"
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 200
            assert (await resp.json())["displayName"] == ""
        async with http.get(f"{base}/metrics") as resp:
            metrics = await resp.text()
    assert (
        'telebridge_vpbx_webhooks_rejected_total{method="get_number_info",'
        'reason="vpbx-unsigned"} 1.0'
    ) in metrics
    assert KEY not in metrics
    assert "vpbx-unsigned" in caplog.text
    assert KEY not in caplog.text
