"""The PBX-side config sections: `[asterisk]`, `[agi]`, `[vpbx]`."""

from __future__ import annotations

from pydantic import Field, SecretStr

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


class VpbxConfig(Section):
    """Rostelecom cloud PBX (Виртуальная АТС) Integration API."""

    # Empty client id: the Rostelecom endpoints refuse every request.
    client_id: str = ""
    sign_key: SecretStr = SecretStr("")
    previous_sign_key: SecretStr = SecretStr("")

    def missing(self) -> list[tuple[str, str]]:
        if self.client_id and not self.sign_key.get_secret_value():
            return [("sign_key", "required when vpbx.client_id is set")]
        return []
