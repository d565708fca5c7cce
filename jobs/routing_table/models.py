"""Tables of the routing table: per-day contributions, employees seen, checkpoints.

There is no table of ranked entries: a client's ranking is computed when it is read,
from that client's contributions (`jobs.routing_table.table`). A run therefore only
adds what is new, and staff or settings changes apply at the next read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.base import Base, UtcDateTime

# Documents fold per day, and days group into weeks that lead the key (see below).
MICROSECONDS_PER_DAY = 86_400_000_000
DAYS_PER_WEEK = 7


class RoutingContribution(Base):
    """Documents of one type tying a client to an employee on one day (UTC).

    The key leads with the week, then the client. A day's documents therefore land
    in the current week's small corner of the index, however large the table grows
    (writing them costs the same at a million documents as at a hundred million),
    and expired weeks leave from the other end as one range. Reading a client costs
    one index probe per week of the longest validity: 14 for 90 days.

    Folding by day means a day's documents count until its latest one expires.
    Times are microseconds since the Unix epoch: compact and exact in both engines.
    """

    __tablename__ = "routing_contribution"
    __table_args__ = ({"sqlite_with_rowid": False},)  # the key is the table

    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    client: Mapped[str] = mapped_column(String(128), primary_key=True)
    employee: Mapped[str] = mapped_column(String(64), primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    documents: Mapped[int] = mapped_column(Integer)
    last_us: Mapped[int] = mapped_column(BigInteger)


class RoutingEmployee(Base):
    """Every employee with documents, and when the latest was: who a menu can
    offer, for the pre-warm, without scanning the contributions."""

    __tablename__ = "routing_employee"

    employee: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_us: Mapped[int] = mapped_column(BigInteger)


class RoutingCheckpoint(Base):
    """Where each document source's last incremental read stopped."""

    __tablename__ = "routing_checkpoint"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[str] = mapped_column(String(128))
    built_at: Mapped[datetime] = mapped_column(UtcDateTime())
