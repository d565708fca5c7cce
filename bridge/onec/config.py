"""The `[onec]` config section: where 1C is and how to log in."""

from __future__ import annotations

from pydantic import Field, SecretStr

from bridge.config_base import Section


class OneCConfig(Section):
    # Base of the publication's standard OData interface, e.g.
    # "http://1c.local/base/odata/standard.odata/". Empty: the 1C clients are off.
    odata_url: str = ""
    username: str = ""
    password: SecretStr = SecretStr("")
    # The miko_crm_api web service, e.g. "http://1c.local/base/ws/miko_crm_api.1cws".
    soap_url: str = ""
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    verify_tls: bool = True

    def missing(self) -> list[tuple[str, str]]:
        if (self.odata_url or self.soap_url) and not self.username:
            return [
                ("username", "required when onec.odata_url or onec.soap_url is set")
            ]
        return []
