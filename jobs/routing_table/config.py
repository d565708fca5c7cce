"""The `[routing]` config section: how employees are ranked per client (seed 003)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator

from bridge.config_base import Section
from jobs.routing_table.ranking import DocumentType

CALLS = "calls"


class DocumentTypeConfig(Section):
    """A 1C document type tying clients to employees (`[[routing.document_types]]`)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[\w.-]+$")
    # 1C entity in the standard OData interface, e.g. "Document_ЗаказКлиента".
    entity: str = Field(pattern=r"^(Document|Catalog|InformationRegister)_\w+$")
    date_field: str = Field(default="Date", min_length=1)
    client_field: str = Field(min_length=1)
    employee_field: str = Field(min_length=1)
    weight: float = Field(gt=0, le=1_000_000)
    validity_days: int = Field(ge=1, le=3650)
    enabled: bool = True

    def document_type(self) -> DocumentType:
        return DocumentType(
            self.name, self.weight, timedelta(days=self.validity_days), self.enabled
        )


class RoutingConfig(Section):
    # Calls from the journal: the default document type, always present.
    call_weight: float = Field(default=1.0, gt=0, le=1_000_000)
    call_validity_days: int = Field(default=90, ge=1, le=3650)
    # Further 1C document types; empty until configured.
    document_types: tuple[DocumentTypeConfig, ...] = ()
    # Employees (1C user id or extension) never offered: service users, robots.
    excluded: tuple[str, ...] = ()

    @field_validator("document_types")
    @classmethod
    def _unique_names(
        cls, value: tuple[DocumentTypeConfig, ...]
    ) -> tuple[DocumentTypeConfig, ...]:
        names = [d.name for d in value]
        for name in names:
            if name == CALLS:
                raise ValueError(
                    f"{CALLS!r} is the built-in journal type; pick another name"
                )
            if names.count(name) > 1:
                raise ValueError(f"document type {name!r} is configured twice")
        return value

    def document_types_by_name(self) -> dict[str, DocumentType]:
        types = {
            CALLS: DocumentType(
                CALLS, self.call_weight, timedelta(days=self.call_validity_days)
            )
        }
        types.update({d.name: d.document_type() for d in self.document_types})
        return types
