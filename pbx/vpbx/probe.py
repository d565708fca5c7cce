"""`telebridge check` for the Rostelecom API: one signed `users_info` call.

It proves the address, TLS trust, the client id, the key and our address in the
portal's allowlist at once, for one of the method's 100 calls an hour.
"""

from __future__ import annotations

from bridge.checks import CheckResult
from bridge.clock import SystemClock
from bridge.config import Config
from pbx.vpbx.client import VpbxClient
from pbx.vpbx.errors import VpbxError

NAME = "vpbx"


async def probe_vpbx(config: Config) -> CheckResult:
    vpbx = config.vpbx
    if not vpbx.client_id:
        return CheckResult(NAME, "", None, "vpbx.client_id is empty")
    try:
        async with VpbxClient(vpbx, SystemClock()) as client:
            await client.users_info()
    except VpbxError as exc:
        return CheckResult(NAME, vpbx.api_url, False, f"{type(exc).__name__}: {exc}")
    return CheckResult(NAME, vpbx.api_url, True, "users_info answered, signature ok")
