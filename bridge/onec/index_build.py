"""Incremental build of the contact index from 1C.

Per owner catalog: the first build reads every object with its contact
information; later builds first read only `Ref_Key`/`DataVersion` (cheap) and then
fetch just the objects whose version changed, in small `Ref_Key eq guid'…' or …`
batches. Objects gone from 1C are dropped. Stored rows are replaced per object,
so a build interrupted by a 1C failure leaves the index consistent (and the next
run picks up what is still different).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.onec import literals
from bridge.onec.config import OneCConfig, PhoneOwners
from bridge.onec.models import ContactOwnerRow, ContactPhoneRow
from bridge.onec.odata import ODataClient
from bridge.onec.owners import OwnerRecord, owner_record, owners_query, versions_query
from bridge.storage.base import Base
from bridge.storage.database import Database

log = logging.getLogger(__name__)
T = TypeVar("T")
_OWNERS = Base.metadata.tables[ContactOwnerRow.__tablename__]
_PHONES = Base.metadata.tables[ContactPhoneRow.__tablename__]
# Objects fetched per `or` filter; 1C's URL length limit is the bound.
CHANGED_BATCH = 40
# Rows per INSERT/DELETE statement (SQLite allows 32766 bound parameters).
WRITE_BATCH = 2000


@dataclass(slots=True)
class BuildReport:
    examined: int = 0  # objects 1C listed
    changed: int = 0  # objects (re)read and stored
    removed: int = 0  # objects gone from 1C
    numbers: int = 0  # numbers stored for the changed objects
    malformed: int = 0  # phone entries that are not a number
    per_entity: dict[str, int] = field(default_factory=dict)

    def counters(self) -> dict[str, int]:
        return {
            "index_examined": self.examined,
            "index_changed": self.changed,
            "index_removed": self.removed,
            "index_numbers": self.numbers,
            "index_malformed": self.malformed,
        }


class IndexBuilder:
    def __init__(self, db: Database, client: ODataClient, config: OneCConfig) -> None:
        self._db = db
        self._client = client
        self._config = config

    async def build(self, now: datetime) -> BuildReport:
        """Bring the stored index up to date with 1C; raises `OneCError`."""
        report = BuildReport()
        for owners in self._config.phone_owners():
            await self._build_one(owners, now, report)
        return report

    async def _build_one(
        self, owners: PhoneOwners, now: datetime, report: BuildReport
    ) -> None:
        stored = await self._stored_versions(owners.entity)
        if not stored:
            seen = await self._read_all(owners, now, report)
        else:
            seen = await self._read_changed(owners, stored, now, report)
        gone = sorted(set(stored) - seen)
        await self._remove(owners.entity, gone)
        report.removed += len(gone)
        report.per_entity[owners.entity] = len(seen)

    async def _read_all(
        self, owners: PhoneOwners, now: datetime, report: BuildReport
    ) -> set[str]:
        seen: set[str] = set()
        query = owners_query(owners, self._config.contact_info)
        async for page in self._client.pages(
            owners.entity, query, self._config.page_size
        ):
            records = [owner_record(e, owners, self._config.contact_info) for e in page]
            seen.update(r.ref for r in records)
            report.examined += len(records)
            await self._store(owners, records, now, report, fresh=True)
        return seen

    async def _read_changed(
        self,
        owners: PhoneOwners,
        stored: dict[str, str],
        now: datetime,
        report: BuildReport,
    ) -> set[str]:
        seen: set[str] = set()
        changed: list[str] = []
        async for page in self._client.pages(
            owners.entity, versions_query(), self._config.page_size
        ):
            for entity in page:
                ref = str(entity["Ref_Key"])
                seen.add(ref)
                if stored.get(ref) != str(entity.get("DataVersion", "")):
                    changed.append(ref)
        report.examined += len(seen)
        for batch in _chunks(changed, CHANGED_BATCH):
            query = owners_query(owners, self._config.contact_info)
            query = literals.Query(
                filter=literals.any_of(
                    literals.compare("Ref_Key", "eq", literals.guid(r)) for r in batch
                ),
                select=query.select,
                orderby=query.orderby,
            )
            page = await self._client.get(owners.entity, query)
            records = [owner_record(e, owners, self._config.contact_info) for e in page]
            await self._store(owners, records, now, report)
        return seen

    async def _stored_versions(self, entity: str) -> dict[str, str]:
        async with self._db.session() as session:
            rows = await session.execute(
                select(ContactOwnerRow.ref, ContactOwnerRow.data_version).where(
                    ContactOwnerRow.entity == entity
                )
            )
            return {ref: version for ref, version in rows.all()}  # noqa: C416

    async def _store(
        self,
        owners: PhoneOwners,
        records: Sequence[OwnerRecord],
        now: datetime,
        report: BuildReport,
        *,
        fresh: bool = False,
    ) -> None:
        if not records:
            return
        owner_rows = [_owner_row(owners, r, now) for r in records]
        phone_rows = [
            {"entity": r.entity, "ref": r.ref, "number": n, "key10": n[-10:]}
            for r in records
            if not r.deleted
            for n in r.numbers
        ]
        async with self._db.session() as session, session.begin():
            if not fresh:  # a first build has nothing to replace
                await _delete_owners(session, owners.entity, [r.ref for r in records])
            # Core inserts: the ORM's bulk path costs more than the rows themselves.
            for chunk in _chunks(owner_rows, WRITE_BATCH):
                await session.execute(insert(_OWNERS), chunk)
            for phones in _chunks(phone_rows, WRITE_BATCH):
                await session.execute(insert(_PHONES), phones)
        report.changed += len(records)
        report.numbers += len(phone_rows)
        report.malformed += sum(r.malformed for r in records)

    async def _remove(self, entity: str, refs: list[str]) -> None:
        if not refs:
            return
        async with self._db.session() as session, session.begin():
            await _delete_owners(session, entity, refs)


async def _delete_owners(session: AsyncSession, entity: str, refs: list[str]) -> None:
    for chunk in _chunks(refs, WRITE_BATCH):
        for table in (ContactPhoneRow, ContactOwnerRow):
            await session.execute(
                delete(table).where(table.entity == entity, table.ref.in_(chunk))
            )


def _owner_row(owners: PhoneOwners, r: OwnerRecord, now: datetime) -> dict[str, object]:
    return {
        "entity": r.entity,
        "ref": r.ref,
        "data_version": r.data_version,
        "deleted": r.deleted,
        "presentation": r.presentation[:1024],
        "parent_entity": owners.parent_entity if r.parent_ref else "",
        "parent_ref": r.parent_ref,
        "read_at": now,
    }


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
