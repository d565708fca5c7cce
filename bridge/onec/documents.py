"""Documents that tie a client to an employee, for the routing table's ranking.

A `DocumentMapping` names a document type and which of its fields hold the date,
the client and the employee (PRODUCT §7). It is a config model so the routing
section can list the types it ranks by; the default is БСП's phone-call document.
Composite fields (a client may be a counterparty or a partner) hold the
reference itself; `<field>_Type` says of what.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.config_base import Section
from bridge.onec import literals
from bridge.onec.literals import Query
from bridge.onec.odata import ODataClient

Entity = dict[str, Any]
EMPTY_REF = "00000000-0000-0000-0000-000000000000"


class DocumentMapping(Section):
    entity: str = "Document_ТелефонныйЗвонок"
    date_field: str = "Date"
    client_field: str = "АбонентКонтакт"
    employee_field: str = "Ответственный_Key"
    # БСП interactions are never posted; sales documents count only when posted.
    posted_only: bool = False


@dataclass(frozen=True, slots=True)
class DocumentFact:
    ref: str
    date: datetime  # 1C wall time, no zone
    client_ref: str
    employee_ref: str


def documents_query(mapping: DocumentMapping, since: datetime) -> Query:
    conditions = [
        literals.compare(mapping.date_field, "ge", literals.date_time(since)),
        literals.compare("DeletionMark", "eq", "false"),
    ]
    if mapping.posted_only:
        conditions.append(literals.compare("Posted", "eq", "true"))
    return Query(
        filter=literals.all_of(*conditions),
        select=[
            "Ref_Key",
            mapping.date_field,
            mapping.client_field,
            mapping.employee_field,
        ],
        orderby=[mapping.date_field, "Ref_Key"],
    )


async def read_documents(
    client: ODataClient, mapping: DocumentMapping, since: datetime, page_size: int
) -> AsyncIterator[DocumentFact]:
    """Documents dated `since` or later that name both a client and an employee."""
    async for page in client.pages(
        mapping.entity, documents_query(mapping, since), page_size
    ):
        for entity in page:
            fact = document_fact(entity, mapping)
            if fact is not None:
                yield fact


def document_fact(entity: Entity, mapping: DocumentMapping) -> DocumentFact | None:
    client = str(entity.get(mapping.client_field) or "")
    employee = str(entity.get(mapping.employee_field) or "")
    if client in ("", EMPTY_REF) or employee in ("", EMPTY_REF):
        return None
    return DocumentFact(
        str(entity["Ref_Key"]),
        datetime.fromisoformat(str(entity[mapping.date_field])),
        client,
        employee,
    )
