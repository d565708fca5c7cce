"""Journal tables: one row per call leg, the rows a loader had to reject, and the
1C documents calls were written back as."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.base import Base, UtcDateTime, UtcMicroseconds

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants 64 bits.
RowId = BigInteger().with_variant(Integer(), "sqlite")


class CallLeg(Base):
    """One leg of a call; a call is all legs sharing a `linkedid`."""

    __tablename__ = "call_legs"
    __table_args__ = (
        UniqueConstraint("source", "leg_key"),
        # "q = a number": either side, newest first, by the match key.
        Index("ix_call_legs_src_key_started", "src_key", "started_at"),
        Index("ix_call_legs_dst_key_started", "dst_key", "started_at"),
        Index("ix_call_legs_employee_started", "employee", "started_at"),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    leg_key: Mapped[str] = mapped_column(String(160))
    linkedid: Mapped[str] = mapped_column(String(128), index=True)
    call_id: Mapped[str] = mapped_column(String(128))
    sequence: Mapped[int] = mapped_column(Integer)
    # Integers on SQLite since migration 0013: the journal is the bulk-loaded table.
    started_at: Mapped[datetime] = mapped_column(UtcMicroseconds, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcMicroseconds)
    ended_at: Mapped[datetime] = mapped_column(UtcMicroseconds)
    src_raw: Mapped[str] = mapped_column(String(128))
    src_key: Mapped[str] = mapped_column(String(32))
    dst_raw: Mapped[str] = mapped_column(String(128))
    dst_key: Mapped[str] = mapped_column(String(32))
    did: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    answered: Mapped[bool] = mapped_column(Boolean)
    missed: Mapped[bool] = mapped_column(Boolean)
    employee: Mapped[str] = mapped_column(String(32))
    talk_seconds: Mapped[int] = mapped_column(Integer)
    wait_seconds: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    recording: Mapped[str] = mapped_column(String(1024))
    number_type: Mapped[str] = mapped_column(String(16))
    # The external party in E.164 (empty for internal calls): whose call it is.
    external_number: Mapped[str] = mapped_column(String(32))
    # Filled from the contact index; NULL = not looked up / no owner yet. Not
    # indexed: the refresh finds unowned calls by start time (migration 0012).
    owner_ref: Mapped[str | None] = mapped_column(String(64))
    owner_entity: Mapped[str | None] = mapped_column(String(64))
    owner_name: Mapped[str | None] = mapped_column(String(256))
    # The source row as read (JSON), for audits and for fields not mapped yet.
    raw: Mapped[str] = mapped_column(Text)


class RejectedCdrRow(Base):
    """A source row the loader could not map, with why; the batch loads anyway."""

    __tablename__ = "cdr_rejects"
    __table_args__ = (UniqueConstraint("source", "row_hash"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    row_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(512))
    raw: Mapped[str] = mapped_column(Text)
    rejected_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CdrCheckpoint(Base):
    """Where each source's loader stopped; moved only with the rows it covers."""

    __tablename__ = "cdr_checkpoints"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    cursor: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    gap_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OneCCallDocument(Base):
    """Which 1C document a journal call became (write-back), one row per call.

    The row is written *before* the document is sent, as `sending`: after a crash
    or a lost answer it is the evidence that 1C may already have the document, so
    the next run looks it up by its marker instead of creating a second one.
    """

    __tablename__ = "journal_onec_documents"
    __table_args__ = (UniqueConstraint("source", "linkedid"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    linkedid: Mapped[str] = mapped_column(String(128))
    # The call's first leg: the journal record the document stands for.
    leg_id: Mapped[int] = mapped_column(RowId, unique=True)
    # "sending" (outcome unknown), "created" or "rejected".
    state: Mapped[str] = mapped_column(String(16))
    ref_key: Mapped[str | None] = mapped_column(String(36), unique=True)
    reason: Mapped[str] = mapped_column(String(512))
    attempts: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
