"""The PBX-side config sections: `[asterisk]`, `[agi]`, `[vpbx]`."""

from __future__ import annotations

import ipaddress
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator

from bridge.config_base import Section


class AsteriskConfig(Section):
    # Empty host: the AMI adapter is off.
    host: str = ""
    port: int = Field(default=5038, ge=1, le=65535)
    username: str = ""
    secret: SecretStr = SecretStr("")
    # Contexts of calls arriving from trunks: they make a call incoming even when
    # the caller's number looks internal (a short number from a cloud PBX).
    trunk_contexts: tuple[str, ...] = ("from-trunk", "from-pstn", "from-external")
    # Reconnect backoff after the connection drops or login fails (exponential).
    reconnect_min_seconds: float = Field(default=0.5, gt=0, le=60)
    reconnect_max_seconds: float = Field(default=30.0, gt=0, le=600)
    ping_interval_seconds: float = Field(default=20.0, gt=0, le=600)
    # How long an AMI action (Login, Ping, CoreShowChannels) may take.
    action_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Click-to-call: the employee's phone is rung on this channel, then the
    # number is dialled from this context once they answer.
    originate_channel: str = "PJSIP/{extension}"
    originate_context: str = "from-internal"
    originate_ring_seconds: int = Field(default=30, ge=1, le=300)
    # How long POST /api/v1/calls/originate waits for the outcome.
    originate_timeout_seconds: float = Field(default=40.0, gt=0, le=600)

    def missing(self) -> list[tuple[str, str]]:
        if self.host and not self.username:
            return [("username", "required when asterisk.host is set")]
        return []


class AgiConfig(Section):
    """The FastAGI listener that dialplans call (`AGI(agi://host:4573/...)`)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=4573, ge=0, le=65535)
    # The caller-name hook answers within this budget or leaves the name alone.
    lookup_budget_seconds: float = Field(default=5.0, gt=0, le=30)


class VpbxQuotas(Section):
    """Calls per hour the PBX allows each outbound method (never exceeded)."""

    call_back: int = Field(default=1000, ge=0)
    get_record: int = Field(default=1000, ge=0)
    users_info: int = Field(default=100, ge=0)
    call_info: int = Field(default=100, ge=0)
    user_calls_charges: int = Field(default=500, ge=0)
    domain_call_history: int = Field(default=500, ge=0)
    download_call_history: int = Field(default=500, ge=0)
    restricting_user_outgoing_calls_get: int = Field(default=500, ge=0)
    restricting_user_outgoing_calls_set: int = Field(default=500, ge=0)


class VpbxConfig(Section):
    """Rostelecom cloud PBX (Виртуальная АТС) Integration API."""

    # Empty client id: the Rostelecom endpoints refuse every request.
    client_id: str = ""
    sign_key: SecretStr = SecretStr("")
    previous_sign_key: SecretStr = SecretStr("")
    # How long the previous key is still accepted on webhooks, from the first start
    # with it (remembered in the data folder, so restarts do not extend it).
    rotation_grace_seconds: int = Field(default=86_400, ge=0, le=30 * 86_400)
    # Webhook source addresses or networks ("194.54.0.0/16"); empty accepts any.
    allowlist: tuple[str, ...] = ()
    # Reverse proxies in front of the bridge: from these, the allowlist checks the
    # last address they add to X-Forwarded-For instead of the proxy's own.
    trusted_proxies: tuple[str, ...] = ()
    # The domain's time zone: webhook timestamps are local time without an offset.
    timezone: str = "Europe/Moscow"
    # get_number_info must answer inside the PBX's own timeout («Таймаут, сек»).
    number_info_budget_seconds: float = Field(default=1.5, gt=0, le=30)
    api_url: str = "https://api.cloudpbx.rt.ru:4443"
    verify_tls: bool = True
    # A PEM file trusted for the API (the portal's «Скачать сертификат API»).
    ca_file: str = ""
    request_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    # Per-method hourly quotas, the portal's figures (manual §10.6.4).
    quotas: VpbxQuotas = Field(default_factory=lambda: VpbxQuotas())

    def missing(self) -> list[tuple[str, str]]:
        if self.client_id and not self.sign_key.get_secret_value():
            return [("sign_key", "required when vpbx.client_id is set")]
        return []

    @field_validator("allowlist", "trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value
