"""Tables of the routing table: per-day contributions and the ranked result."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.base import Base, UtcDateTime


class RoutingContribution(Base):
    """Documents of one type tying a client to an employee on one day.

    Aggregating by day keeps ten million documents to a table that rebuilds in
    seconds; validity is therefore counted from the day's latest document.
    """

    __tablename__ = "routing_contribution"

    client: Mapped[str] = mapped_column(String(128), primary_key=True)
    employee: Mapped[str] = mapped_column(String(64), primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    documents: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_routing_contribution_type_last", "doc_type", "last_at"),
    )


class RoutingEntry(Base):
    """One ranked employee of one client: what the IVR reads at call time."""

    __tablename__ = "routing_entry"

    client: Mapped[str] = mapped_column(String(128), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    responsible: Mapped[bool] = mapped_column(Boolean)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(Text)


class RoutingCheckpoint(Base):
    """Where each document source's last incremental read stopped."""

    __tablename__ = "routing_checkpoint"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[str] = mapped_column(String(128))
    built_at: Mapped[datetime] = mapped_column(UtcDateTime())


# Documents on their way into contributions: filled and emptied in one transaction
# by `RoutingStore.add`, so the database, not Python, does the folding.
routing_stage = Table(
    "routing_stage",
    Base.metadata,
    Column("client", String(128), nullable=False),
    Column("employee", String(64), nullable=False),
    Column("doc_type", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)
