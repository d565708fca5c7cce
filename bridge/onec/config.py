"""The `[onec]` config section: where 1C is, how to log in, and where its data lives.

The nested tables name 1C objects and fields (the mapping). Defaults fit БСП-based
configurations (УТ 11, ERP, КА 2, БП 3.0); a configuration that keeps phones
elsewhere changes names here, never code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from bridge.config_base import Section


class PhoneOwners(Section):
    """A catalog whose contact-information tabular part holds phones."""

    enabled: bool = True
    entity: str = "Catalog_Контрагенты"
    name_field: str = "Description"
    # For contact persons: the reference to the counterparty they belong to, and
    # the catalog that reference points into.
    parent_field: str = ""
    parent_entity: str = ""


class ContactInfo(Section):
    """БСП's КонтактнаяИнформация tabular part, the same in every owner catalog."""

    tabular_part: str = "КонтактнаяИнформация"
    type_field: str = "Тип"
    phone_type: str = "Телефон"
    # Preferred: the full number; older БСП leaves it empty, then the presentation
    # (which may hold several numbers) is read instead.
    number_field: str = "НомерТелефона"
    presentation_field: str = "Представление"


class UsersMapping(Section):
    entity: str = "Catalog_Пользователи"
    name_field: str = "Description"
    # Where an employee's extension is: "contact_info" (a short number among the
    # user's phones) or "field" (an attribute named by extension_field).
    extension_from: Literal["contact_info", "field"] = "contact_info"
    extension_field: str = ""
    invalid_field: str = "Недействителен"


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
    # Objects per OData request when reading catalogs ($top/$skip paging).
    page_size: int = Field(default=1000, ge=10, le=100_000)
    contact_info: ContactInfo = ContactInfo()
    counterparties: PhoneOwners = PhoneOwners()
    contact_persons: PhoneOwners = PhoneOwners(
        entity="Catalog_КонтактныеЛица",
        parent_field="Owner_Key",
        parent_entity="Catalog_Контрагенты",
    )
    # УТ 11 / ERP keep customers' phones on partners; off by default (БП has none).
    partners: PhoneOwners = PhoneOwners(enabled=False, entity="Catalog_Партнеры")
    users: UsersMapping = UsersMapping()

    def missing(self) -> list[tuple[str, str]]:
        if (self.odata_url or self.soap_url) and not self.username:
            return [
                ("username", "required when onec.odata_url or onec.soap_url is set")
            ]
        if self.users.extension_from == "field" and not self.users.extension_field:
            return [("users.extension_field", "required when extension_from = field")]
        return []

    def phone_owners(self) -> list[PhoneOwners]:
        """Catalogs to index, parents before their children."""
        found = [self.counterparties, self.partners, self.contact_persons]
        return [owners for owners in found if owners.enabled]
