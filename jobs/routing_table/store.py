"""Reading and writing the routing table.

Documents are staged and folded into per-day contributions by the database, and
ranked there too (`sql_build`), so ten million documents never pass through a
Python loop twice. The pure `ranking.rank` is the specification it must match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

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
)
from jobs.routing_table.sql_build import fold_stage, rank_clients

# Keeps IN lists well under both engines' parameter limits.
CLIENT_CHUNK = 500
STAGE_CHUNK = 50_000


class RoutingStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, interactions: Iterable[Interaction]) -> set[str]:
        """Fold documents into per-day contributions; returns the clients touched."""
        rows = [
            (i.client, i.employee, i.doc_type, self._stamp(i.at))
            for i in interactions
            for _ in range(i.count)
        ]
        if not rows:
            return set()
        async with self._db.engine.begin() as conn:
            await self._bulk(conn, "routing_stage", 4, rows)
            await conn.exec_driver_sql(fold_stage(self._db.is_sqlite))
            await conn.exec_driver_sql("DELETE FROM routing_stage")
        return {row[0] for row in rows}

    async def rebuild(
        self,
        interactions: Iterable[Interaction],
        types: Mapping[str, DocumentType],
        now: datetime,
        inactive: frozenset[str],
    ) -> int:
        """Replace the whole table from all documents (first build, full rebuild)."""
        async with self._db.engine.begin() as conn:
            await conn.execute(delete(RoutingContribution))
        await self.add(interactions)
        return await self.recompute(None, types, now, inactive)

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

    async def recompute(
        self,
        clients: Iterable[str] | None,
        types: Mapping[str, DocumentType],
        now: datetime,
        inactive: frozenset[str],
    ) -> int:
        """Re-rank `clients` (None: everyone); returns entries written."""
        if clients is None:
            async with self._db.engine.begin() as conn:
                await conn.execute(delete(RoutingEntry))
                return await self._rank(conn, types, now, inactive, None)
        written = 0
        for chunk in _chunks(sorted(clients), CLIENT_CHUNK):
            async with self._db.engine.begin() as conn:
                await conn.execute(
                    delete(RoutingEntry).where(RoutingEntry.client.in_(chunk))
                )
                written += await self._rank(conn, types, now, inactive, chunk)
        return written

    async def client_count(self) -> int:
        async with self._db.session() as session:
            count = await session.scalar(
                select(func.count(func.distinct(RoutingEntry.client)))
            )
        return int(count or 0)

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

    async def _rank(
        self,
        conn: AsyncConnection,
        types: Mapping[str, DocumentType],
        now: datetime,
        inactive: frozenset[str],
        clients: Sequence[str] | None,
    ) -> int:
        return await rank_clients(
            conn,
            types,
            now,
            inactive,
            clients,
            is_sqlite=self._db.is_sqlite,
            stamp=self._stamp,
        )

    async def _bulk(
        self, conn: AsyncConnection, table: str, width: int, rows: list[tuple[Any, ...]]
    ) -> None:
        # The driver's executemany: an order of magnitude faster than ORM inserts
        # for the millions of rows a first build over years of documents brings.
        marks = ", ".join(["?" if self._db.is_sqlite else "%s"] * width)
        sql = f"INSERT INTO {table} VALUES ({marks})"  # noqa: S608 - fixed names
        for chunk in _chunks(rows, STAGE_CHUNK):
            await conn.exec_driver_sql(sql, list(chunk))

    def _stamp(self, at: datetime) -> Any:
        """A UtcDateTime value as the driver takes it (SQLite: SQLAlchemy's text)."""
        naive = at.astimezone(UTC).replace(tzinfo=None)
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if self._db.is_sqlite else naive


def _decode_shares(text: str) -> tuple[TypeShare, ...]:
    shares = []
    for part in filter(None, text.split(";")):
        name, documents, weight = part.rsplit(":", 2)
        shares.append(TypeShare(name, int(documents), float(weight)))
    return tuple(sorted(shares, key=lambda s: s.doc_type))


def _ranked(entry: RoutingEntry) -> RankedEmployee:
    return RankedEmployee(
        entry.employee,
        round(entry.score, 6),
        entry.last_at,
        _decode_shares(entry.reason),
        responsible=entry.responsible,
    )


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
