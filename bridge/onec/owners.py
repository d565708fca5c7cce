"""From 1C objects (OData JSON) to phone owners: pure, no I/O.

A phone row of БСП contact information may carry the number in `НомерТелефона`
or, in older versions, only in `Представление` (which may hold several numbers,
and an extension after "доб."). Every candidate goes through the one
normalization (`bridge.phone_numbers.normalize`); what is not an external number
is counted as malformed and skipped, never fatal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bridge.onec.config import ContactInfo, PhoneOwners
from bridge.onec.literals import Query
from bridge.phone_numbers import normalize

Entity = dict[str, Any]
# Separators between several numbers typed into one presentation.
_SEVERAL = re.compile(r"[,;]|\s{2,}")
# "доб. 123", "ext 5": an office extension after the number, not part of it.
_EXTENSION = re.compile(r"(?:доб|вн|ext|x)\.?\s*\d+\s*$", re.IGNORECASE)
STANDARD_FIELDS = ("Ref_Key", "DataVersion", "DeletionMark")


@dataclass(frozen=True, slots=True)
class OwnerRecord:
    """One 1C object that owns phones, as the index stores it."""

    entity: str
    ref: str
    data_version: str
    deleted: bool
    presentation: str
    parent_ref: str
    numbers: tuple[str, ...]  # E.164, deduplicated, in 1C's order
    malformed: int


def owners_query(owners: PhoneOwners, info: ContactInfo) -> Query:
    """What to ask 1C for one owner catalog: only the fields we read."""
    select = [*STANDARD_FIELDS, owners.name_field, info.tabular_part]
    if owners.parent_field:
        select.append(owners.parent_field)
    return Query(select=select, orderby=["Ref_Key"])


def versions_query() -> Query:
    """The cheap pass: which objects exist and at what version."""
    return Query(select=list(STANDARD_FIELDS), orderby=["Ref_Key"])


def owner_record(entity: Entity, owners: PhoneOwners, info: ContactInfo) -> OwnerRecord:
    numbers: list[str] = []
    malformed = 0
    for row in entity.get(info.tabular_part) or []:
        if row.get(info.type_field) != info.phone_type:
            continue
        found, bad = _row_numbers(row, info)
        numbers.extend(n for n in found if n not in numbers)
        malformed += bad
    parent = entity.get(owners.parent_field, "") if owners.parent_field else ""
    return OwnerRecord(
        entity=owners.entity,
        ref=str(entity["Ref_Key"]),
        data_version=str(entity.get("DataVersion", "")),
        deleted=bool(entity.get("DeletionMark", False)),
        presentation=str(entity.get(owners.name_field) or ""),
        parent_ref=_reference(parent),
        numbers=tuple(numbers),
        malformed=malformed,
    )


def _row_numbers(row: Entity, info: ContactInfo) -> tuple[list[str], int]:
    full = str(row.get(info.number_field) or "").strip()
    texts = (
        [full] if full else _SEVERAL.split(str(row.get(info.presentation_field) or ""))
    )
    found: list[str] = []
    malformed = 0
    for text in (t.strip() for t in texts):
        if not text:
            continue
        number = normalize(_EXTENSION.sub("", text))
        if number.is_external:
            found.append(number.canonical)
        else:
            malformed += 1
    return found, malformed


def _reference(value: Any) -> str:
    text = str(value or "")
    return "" if text.strip("0-") == "" else text
