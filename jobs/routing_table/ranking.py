"""Ranking employees per client: pure code, no I/O (seed 003, PRODUCT §7).

Each configured document type (calls from the journal by default) gives a weight to a
(client, employee) pair while the document is inside its type's validity period:

    score(client, employee) = Σ weight(type(d)) for documents d of that pair
                              with now - date(d) < validity(type(d))

Weight does not decay inside validity. 1C admins configure "вес и срок действия" per
document type and expect exactly that: a document counts fully until it expires. A
decay would make two settings (validity and a half-life) interact in ways nobody can
predict from the settings screen, and would make the table change every night even
when nothing happened. Recency still matters, as the first tie-break.

Ties are broken deterministically: higher score, then the most recent document, then
the employee id. Excluded and dismissed employees drop out before ranking, so the next
one takes over as responsible (the first of a client's ranking) with no gap.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class DocumentType:
    name: str
    weight: float
    validity: timedelta
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Interaction:
    """One document tying a client to an employee at a moment."""

    client: str
    employee: str
    doc_type: str
    at: datetime
    count: int = 1  # pre-aggregated documents of the same day count as several


@dataclass(frozen=True, slots=True)
class TypeShare:
    """Why a score is what it is: one document type's part of it."""

    doc_type: str
    documents: int
    weight: float


@dataclass(frozen=True, slots=True)
class RankedEmployee:
    employee: str
    score: float
    last_at: datetime
    shares: tuple[TypeShare, ...]
    responsible: bool = False

    def reason(self) -> str:
        """A sentence an admin can read: documents counted and weights by type."""
        parts = [f"{s.doc_type}: {s.documents} × {s.weight:g}" for s in self.shares]
        return f"score {self.score:g} = " + " + ".join(parts)


@dataclass(frozen=True, slots=True)
class ClientRanking:
    client: str
    employees: tuple[RankedEmployee, ...]

    @property
    def responsible(self) -> RankedEmployee | None:
        return self.employees[0] if self.employees else None


@dataclass(slots=True)
class _Tally:
    score: float = 0.0
    last_at: datetime | None = None
    documents: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def rank(
    interactions: Iterable[Interaction],
    types: Mapping[str, DocumentType],
    now: datetime,
    *,
    inactive: frozenset[str] = frozenset(),
) -> dict[str, ClientRanking]:
    """Rank every client's employees; `inactive` = excluded or dismissed employees."""
    tallies: dict[str, dict[str, _Tally]] = defaultdict(lambda: defaultdict(_Tally))
    for item in interactions:
        doc_type = types.get(item.doc_type)
        if not _counts(item, doc_type, now) or item.employee in inactive:
            continue
        assert doc_type is not None  # noqa: S101 - _counts checked it
        tally = tallies[item.client][item.employee]
        tally.score += doc_type.weight * item.count
        tally.documents[item.doc_type] += item.count
        if tally.last_at is None or item.at > tally.last_at:
            tally.last_at = item.at
    return {
        client: _ranking(client, per_employee, types)
        for client, per_employee in tallies.items()
    }


def _counts(item: Interaction, doc_type: DocumentType | None, now: datetime) -> bool:
    if doc_type is None or not doc_type.enabled or item.at > now:
        return False
    return now - item.at < doc_type.validity


def _ranking(
    client: str, per_employee: Mapping[str, _Tally], types: Mapping[str, DocumentType]
) -> ClientRanking:
    ranked = sorted(
        (_ranked(employee, tally, types) for employee, tally in per_employee.items()),
        key=_order,
    )
    if ranked:
        first = ranked[0]
        ranked[0] = RankedEmployee(
            first.employee, first.score, first.last_at, first.shares, responsible=True
        )
    return ClientRanking(client, tuple(ranked))


def _ranked(
    employee: str, tally: _Tally, types: Mapping[str, DocumentType]
) -> RankedEmployee:
    assert tally.last_at is not None  # noqa: S101 - a tally exists only with documents
    shares = tuple(
        TypeShare(name, count, types[name].weight)
        for name, count in sorted(tally.documents.items())
    )
    return RankedEmployee(employee, round(tally.score, 6), tally.last_at, shares)


def _order(r: RankedEmployee) -> tuple[float, float, str]:
    return (-r.score, -r.last_at.timestamp(), r.employee)
