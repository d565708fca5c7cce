"""`telebridge check` reaches the (fake) Rostelecom API with a signed call."""

from __future__ import annotations

from bridge.checks import run_checks
from pbx.vpbx.probe import probe_vpbx
from tests.conftest import make_config
from tests.fakes.rostelecom import FakeRostelecomApi, start

CLIENT_ID = "1874BAB574D929ECDD7C2880185FBF69"
KEY = "259D87F014309CD190E91AC53C9C39E0"


async def test_the_probe_reports_a_working_api(tmp_path):
    fake = FakeRostelecomApi(CLIENT_ID, KEY)
    runner, url = await start(fake)
    try:
        vpbx = {"client_id": CLIENT_ID, "sign_key": KEY, "api_url": url}
        results = await run_checks(make_config(tmp_path, vpbx=vpbx))
    finally:
        await runner.cleanup()
    [result] = [r for r in results if r.component == "vpbx"]
    assert result.ok is True
    assert [r.method for r in fake.received] == ["users_info"]


async def test_the_probe_reports_a_wrong_key(tmp_path):
    fake = FakeRostelecomApi(CLIENT_ID, KEY)
    runner, url = await start(fake)
    try:
        vpbx = {"client_id": CLIENT_ID, "sign_key": "F" * 32, "api_url": url}
        result = await probe_vpbx(make_config(tmp_path, vpbx=vpbx))
    finally:
        await runner.cleanup()
    assert result.ok is False
    assert "VpbxRejected" in result.detail
    assert "F" * 32 not in result.detail


async def test_the_probe_says_when_not_configured(tmp_path):
    result = await probe_vpbx(make_config(tmp_path))
    assert result.ok is None
