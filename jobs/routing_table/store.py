"""Reading and writing the routing table; the ranking itself is `ranking.rank`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.storage.database import Database
from jobs.routing_table.models import (
    RoutingCheckpoint,
    RoutingContribution,
    RoutingEntry,
)
from jobs.routing_table.ranking import (
    ClientRanking,
    DocumentType,
    Interaction,
    RankedEmployee,
    TypeShare,
    rank,
)

# Keeps IN lists and multi-row inserts well under both engines' parameter limits.
CHUNK = 500


class RoutingStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, interactions: Iterable[Interaction]) -> set[str]:
        """Fold documents into per-day contributions; returns the clients touched."""
        buckets = _bucket(interactions)
        for chunk in _chunks(list(buckets.items()), CHUNK):
            async with self._db.session() as session, session.begin():
                await session.execute(self._upsert(chunk))
        return {key[0] for key in buckets}

    async def expired_clients(
        self, types: Mapping[str, DocumentType], since: datetime, now: datetime
    ) -> set[str]:
        """Clients with a contribution whose validity ended in (since, now]."""
        clients: set[str] = set()
        async with self._db.session() as session:
            for doc_type in types.values():
                rows = await session.execute(
                    select(RoutingContribution.client)
                    .where(RoutingContribution.doc_type == doc_type.name)
                    .where(RoutingContribution.last_at > since - doc_type.validity)
                    .where(RoutingContribution.last_at <= now - doc_type.validity)
                    .distinct()
                )
                clients.update(rows.scalars())
        return clients

    async def all_clients(self) -> set[str]:
        async with self._db.session() as session:
            rows = await session.execute(select(RoutingContribution.client).distinct())
            return set(rows.scalars())

    async def recompute(
        self,
        clients: Iterable[str],
        types: Mapping[str, DocumentType],
        now: datetime,
        inactive: frozenset[str],
    ) -> int:
        """Re-rank `clients` from their contributions; returns entries written."""
        written = 0
        for chunk in _chunks(sorted(clients), CHUNK):
            async with self._db.session() as session, session.begin():
                interactions = await _load(session, chunk)
                table = rank(interactions, types, now, inactive=inactive)
                await session.execute(
                    delete(RoutingEntry).where(RoutingEntry.client.in_(chunk))
                )
                rows = [_entry_row(r) for c in chunk if (r := table.get(c))]
                flat = [row for client_rows in rows for row in client_rows]
                if flat:
                    await session.execute(insert(RoutingEntry), flat)
                written += len(flat)
        return written

    async def ranking(self, client: str) -> ClientRanking | None:
        async with self._db.session() as session:
            rows = await session.execute(
                select(RoutingEntry)
                .where(RoutingEntry.client == client)
                .order_by(RoutingEntry.position)
            )
            entries = rows.scalars().all()
        if not entries:
            return None
        return ClientRanking(client, tuple(_ranked(e) for e in entries))

    async def checkpoint(self, source: str) -> RoutingCheckpoint | None:
        async with self._db.session() as session:
            return await session.get(RoutingCheckpoint, source)

    async def save_checkpoint(self, source: str, position: str, at: datetime) -> None:
        async with self._db.session() as session, session.begin():
            await session.merge(
                RoutingCheckpoint(source=source, position=position, built_at=at)
            )

    def _upsert(
        self, chunk: Sequence[tuple[tuple[str, str, str, date], _Bucket]]
    ) -> Any:
        values = [
            {
                "client": client,
                "employee": employee,
                "doc_type": doc_type,
                "day": day,
                "documents": bucket.documents,
                "last_at": bucket.last_at,
            }
            for (client, employee, doc_type, day), bucket in chunk
        ]
        dialect_insert = postgresql.insert if not self._db.is_sqlite else sqlite.insert
        stmt = dialect_insert(RoutingContribution).values(values)
        excluded = stmt.excluded
        table = RoutingContribution.__table__.c
        return stmt.on_conflict_do_update(
            index_elements=["client", "employee", "doc_type", "day"],
            set_={
                "documents": table.documents + excluded.documents,
                "last_at": _greatest(
                    self._db.is_sqlite, table.last_at, excluded.last_at
                ),
            },
        )


class _Bucket:
    __slots__ = ("documents", "last_at")

    def __init__(self, at: datetime) -> None:
        self.documents = 0
        self.last_at = at


def _bucket(
    interactions: Iterable[Interaction],
) -> dict[tuple[str, str, str, date], _Bucket]:
    buckets: dict[tuple[str, str, str, date], _Bucket] = {}
    for item in interactions:
        key = (item.client, item.employee, item.doc_type, item.at.date())
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = _Bucket(item.at)
        bucket.documents += item.count
        bucket.last_at = max(bucket.last_at, item.at)
    return buckets


def _greatest(is_sqlite: bool, a: Any, b: Any) -> Any:
    # SQLite spells GREATEST as the two-argument max().
    return func.max(a, b) if is_sqlite else func.greatest(a, b)


async def _load(session: AsyncSession, clients: Sequence[str]) -> list[Interaction]:
    rows = await session.execute(
        select(
            RoutingContribution.client,
            RoutingContribution.employee,
            RoutingContribution.doc_type,
            RoutingContribution.last_at,
            RoutingContribution.documents,
        ).where(RoutingContribution.client.in_(clients))
    )
    return [Interaction(c, e, t, at, n) for c, e, t, at, n in rows]


def _entry_row(ranking: ClientRanking) -> list[dict[str, Any]]:
    return [
        {
            "client": ranking.client,
            "position": position,
            "employee": r.employee,
            "score": r.score,
            "responsible": r.responsible,
            "last_at": r.last_at,
            "reason": _encode_shares(r.shares),
        }
        for position, r in enumerate(ranking.employees)
    ]


def _encode_shares(shares: tuple[TypeShare, ...]) -> str:
    # "calls:3:1;orders:1:5" — small, and parsed back for explanations.
    return ";".join(f"{s.doc_type}:{s.documents}:{s.weight:g}" for s in shares)


def _decode_shares(text: str) -> tuple[TypeShare, ...]:
    shares = []
    for part in filter(None, text.split(";")):
        name, documents, weight = part.rsplit(":", 2)
        shares.append(TypeShare(name, int(documents), float(weight)))
    return tuple(shares)


def _ranked(entry: RoutingEntry) -> RankedEmployee:
    return RankedEmployee(
        entry.employee,
        entry.score,
        entry.last_at,
        _decode_shares(entry.reason),
        responsible=entry.responsible,
    )


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
