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

    def missing(self) -> list[tuple[str, str]]:
        if self.host and not self.username:
            return [("username", "required when asterisk.host is set")]
        return []


class AgiConfig(Section):
    """The FastAGI listener that dialplans call (`AGI(agi://host:4573/...)`)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=4573, ge=0, le=65535)


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
