"""Who may call the webhooks: the decisions, apart from the HTTP handlers.

Checks run cheapest first and say exactly why a request was refused, so the edge
can answer with a stable id and count each reason in the metrics.
"""

from __future__ import annotations

import enum
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.clock import Clock
from pbx.config import VpbxConfig
from pbx.vpbx.signature import matching_key


class Rejection(enum.StrEnum):
    NOT_CONFIGURED = "vpbx-not-configured"
    ADDRESS_NOT_ALLOWED = "vpbx-address-not-allowed"
    UNSIGNED = "vpbx-unsigned"
    UNKNOWN_CLIENT = "vpbx-unknown-client"
    BAD_SIGNATURE = "vpbx-bad-signature"

    @property
    def status(self) -> int:
        """401 when credentials are absent, 403 when they are present but wrong."""
        return 401 if self is Rejection.UNSIGNED else 403


class KeyUsed(enum.StrEnum):
    CURRENT = "current"
    PREVIOUS = "previous"


@dataclass(frozen=True, slots=True)
class Verdict:
    key: KeyUsed | None = None
    rejection: Rejection | None = None

    @property
    def accepted(self) -> bool:
        return self.rejection is None


@dataclass(frozen=True, slots=True)
class Credentials:
    """What one request offers: its source address, headers and exact body."""

    remote: str | None
    client_id: str | None
    signature: str | None
    body: bytes


class WebhookGuard:
    def __init__(
        self,
        config: VpbxConfig,
        clock: Clock,
        previous_until: datetime | None = None,
    ) -> None:
        """`previous_until` ends the previous key's window (`pbx.vpbx.rotation`);
        by default it is `rotation_grace_seconds` from now."""
        self._client_id = config.client_id
        self._key = config.sign_key.get_secret_value()
        self._previous = config.previous_sign_key.get_secret_value()
        self._networks = _networks(config.allowlist)
        self._proxies = _networks(config.trusted_proxies)
        self._clock = clock
        grace = timedelta(seconds=config.rotation_grace_seconds)
        self._previous_until = previous_until or clock.now() + grace

    def check(self, offered: Credentials) -> Verdict:
        if not self._client_id or not self._key:
            return Verdict(rejection=Rejection.NOT_CONFIGURED)
        if not self._address_allowed(offered.remote):
            return Verdict(rejection=Rejection.ADDRESS_NOT_ALLOWED)
        if not offered.client_id or not offered.signature:
            return Verdict(rejection=Rejection.UNSIGNED)
        if not hmac.compare_digest(
            offered.client_id.strip().upper().encode(),
            self._client_id.upper().encode(),
        ):
            return Verdict(rejection=Rejection.UNKNOWN_CLIENT)
        return self._signature(offered.body, offered.signature)

    def _signature(self, body: bytes, signature: str) -> Verdict:
        keys = [self._key]
        if self._previous and self._clock.now() <= self._previous_until:
            keys.append(self._previous)
        index = matching_key(self._client_id, body, signature, keys)
        if index is None:
            return Verdict(rejection=Rejection.BAD_SIGNATURE)
        return Verdict(key=KeyUsed.CURRENT if index == 0 else KeyUsed.PREVIOUS)

    def source(self, remote: str | None, forwarded_for: str | None) -> str | None:
        """The caller's address: behind a trusted proxy, the hop it appended."""
        if forwarded_for and _within(remote, self._proxies):
            return forwarded_for.split(",")[-1].strip()
        return remote

    def _address_allowed(self, remote: str | None) -> bool:
        return not self._networks or _within(remote, self._networks)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in entries)


def _within(remote: str | None, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return any(address in network for network in networks)
