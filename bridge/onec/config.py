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


class WriteBack(Section):
    """Journal calls written back to 1C as interaction documents (off by default).

    One document per call (all legs of a `linkedid`), as 1C's call journal shows
    one row per call with every employee who handled it (seed 001). Runs after
    each `cdr_loader` run; what 1C cannot take now stays pending for the next.
    """

    enabled: bool = False
    entity: str = "Document_ТелефонныйЗвонок"
    # The document's fields (БСП ТелефонныйЗвонок); an empty name leaves it unset.
    incoming_field: str = "Входящий"
    number_field: str = "АбонентКакСвязаться"
    contact_field: str = "АбонентКонтакт"
    contact_name_field: str = "АбонентПредставление"
    subject_field: str = "Тема"
    description_field: str = "Описание"
    responsible_field: str = "Ответственный_Key"
    author_field: str = "Автор_Key"
    # Holds the call's marker, so a document whose creation we could not confirm
    # is found again instead of created twice; a string field of unlimited length.
    marker_field: str = "Комментарий"
    # Calls per run: a long backlog (1C was down) catches up over several runs.
    batch_size: int = Field(default=200, ge=1, le=10_000)
    # A call is written once its last leg ended this long ago (late CDR legs of a
    # transfer arrive with it) ...
    settle_seconds: int = Field(default=300, ge=0, le=86400)
    # ... and only if it started within this many days: switching the write-back
    # on does not copy years of history into 1C.
    lookback_days: int = Field(default=3, ge=1, le=90)


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
    writeback: WriteBack = WriteBack()

    def missing(self) -> list[tuple[str, str]]:
        if (self.odata_url or self.soap_url) and not self.username:
            return [
                ("username", "required when onec.odata_url or onec.soap_url is set")
            ]
        if self.users.extension_from == "field" and not self.users.extension_field:
            return [("users.extension_field", "required when extension_from = field")]
        if self.writeback.enabled and not self.odata_url:
            return [("writeback.enabled", "needs onec.odata_url (1C's OData)")]
        if self.writeback.enabled and not self.writeback.marker_field:
            return [("writeback.marker_field", "required while writeback is on")]
        return []

    def phone_owners(self) -> list[PhoneOwners]:
        """Catalogs to index, parents before their children."""
        found = [self.counterparties, self.partners, self.contact_persons]
        return [owners for owners in found if owners.enabled]
