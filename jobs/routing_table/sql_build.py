"""The routing table computed inside the database, for millions of documents.

Same rules as `ranking.rank` (the specification; a test holds the two equal):
documents fold into per-day contributions with GROUP BY, and each client's
employees are scored and ordered with ROW_NUMBER() — no Python loop per document.
SQLite and PostgreSQL differ only in how a date is cut from a timestamp and how
strings are aggregated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from jobs.routing_table.ranking import DocumentType


def fold_stage(is_sqlite: bool) -> str:
    """Staged documents → per-day contributions (added to what is there)."""
    day = "date(at)" if is_sqlite else "CAST(at AS DATE)"
    return f"""
        INSERT INTO routing_contribution
            (client, employee, doc_type, day, documents, last_at)
        SELECT client, employee, doc_type, {day}, COUNT(*), MAX(at)
        FROM routing_stage WHERE true
        GROUP BY client, employee, doc_type, {day}
        ON CONFLICT (client, employee, doc_type, day) DO UPDATE SET
            documents = routing_contribution.documents + excluded.documents,
            last_at = {"max" if is_sqlite else "greatest"}(
                routing_contribution.last_at, excluded.last_at)
    """  # noqa: S608 - no user input; the dialect picks fixed spellings


async def rank_clients(
    conn: AsyncConnection,
    types: Mapping[str, DocumentType],
    now: datetime,
    inactive: frozenset[str],
    clients: Sequence[str] | None,
    *,
    is_sqlite: bool,
    stamp: Any,
) -> int:
    """Write the entries of `clients` (None: everyone) from their contributions;
    returns how many were written.

    CROSS JOIN keeps contributions the outer loop on SQLite (its planner would
    otherwise scan a whole document type to find a few clients); PostgreSQL
    treats it as the plain join it is."""
    live = [t for t in types.values() if t.enabled]
    if not live:
        return 0
    params: dict[str, Any] = {"now": stamp(now)}
    values = []
    for i, doc_type in enumerate(live):
        params[f"n{i}"], params[f"w{i}"] = doc_type.name, doc_type.weight
        params[f"a{i}"] = stamp(now - doc_type.validity)
        cast = "" if is_sqlite else "CAST"
        values.append(
            f"(:n{i}, {cast}(:w{i}{'' if is_sqlite else ' AS DOUBLE PRECISION'}), "
            f"{cast}(:a{i}{'' if is_sqlite else ' AS TIMESTAMP'}))"
        )
    where_client, where_employee = "", ""
    if clients is not None:
        names = [f":c{i}" for i in range(len(clients))]
        params.update({f"c{i}": c for i, c in enumerate(clients)})
        where_client = f" AND c.client IN ({', '.join(names)})"
    if inactive:
        names = [f":x{i}" for i in range(len(inactive))]
        params.update({f"x{i}": e for i, e in enumerate(sorted(inactive))})
        where_employee = f" AND c.employee NOT IN ({', '.join(names)})"
    concat = "group_concat(share, ';')" if is_sqlite else "string_agg(share, ';')"
    docs_text = "docs" if is_sqlite else "CAST(docs AS TEXT)"
    weight_text = "weight" if is_sqlite else "CAST(weight AS TEXT)"
    sql = f"""
        WITH types(name, weight, valid_after) AS (VALUES {", ".join(values)}),
        per_type AS (
            SELECT c.client, c.employee, c.doc_type, SUM(c.documents) AS docs,
                   MAX(t.weight) AS weight, MAX(c.last_at) AS last_at
            FROM routing_contribution c CROSS JOIN types t
            WHERE t.name = c.doc_type
                  AND c.last_at > t.valid_after AND c.last_at <= :now
                  {where_client}{where_employee}
            GROUP BY c.client, c.employee, c.doc_type
        ),
        scored AS (
            SELECT client, employee, SUM(docs * weight) AS score,
                   MAX(last_at) AS last_at,
                   {concat} AS reason
            FROM (SELECT *, doc_type || ':' || {docs_text} || ':' || {weight_text}
                          AS share FROM per_type) shares
            GROUP BY client, employee
        ),
        ordered AS (
            SELECT client, employee, score, last_at, reason,
                   ROW_NUMBER() OVER (PARTITION BY client
                                      ORDER BY score DESC, last_at DESC, employee)
                       - 1 AS position
            FROM scored
        )
        INSERT INTO routing_entry
            (client, position, employee, score, responsible, last_at, reason)
        SELECT client, position, employee, score, position = 0, last_at, reason
        FROM ordered
    """  # noqa: S608 - every value is a bound parameter
    await conn.execute(text(sql), params)
    # rowcount of INSERT ... SELECT is -1 on SQLite; count what is there instead.
    count_sql = "SELECT COUNT(*) FROM routing_entry c WHERE true" + where_client  # noqa: S608
    client_params = {k: v for k, v in params.items() if k.startswith("c")}
    return int((await conn.execute(text(count_sql), client_params)).scalar_one())
