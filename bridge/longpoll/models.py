"""Tables of the events channel: the durable event log and the consumers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.base import Base, UtcDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT.
_SEQ = BigInteger().with_variant(Integer(), "sqlite")


class EventRow(Base):
    """One published event. `seq` orders the log; rows are pruned by retention."""

    __tablename__ = "event_log"

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # Space-separated extensions the event concerns ("" = none): panels filter on it.
    extensions: Mapped[str] = mapped_column(String(512), default="")
    data: Mapped[str] = mapped_column(Text)


class ConsumerRow(Base):
    """A long-poll consumer; only the SHA-256 of its token is kept."""

    __tablename__ = "event_consumer"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    extension: Mapped[str] = mapped_column(String(32), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_poll_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The cursor of its last poll: its acknowledgement, and where a poll without a
    # cursor resumes.
    cursor: Mapped[str] = mapped_column(String(64), default="")
