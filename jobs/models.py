"""Job tables: the live settings of each job and the history of its runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.base import Base, UtcDateTime


class JobSetting(Base):
    """Enabled flag and schedule (JSON of `Schedule`); seeded once from the config."""

    __tablename__ = "job_settings"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    schedule: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JobRun(Base):
    """One run. Unique on (job, scheduled time): a second fire of the same time,
    from another instance or a coalesced misfire, cannot insert and is skipped."""

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job_id", "scheduled_for"),
        Index("ix_job_runs_job_id_started_at", "job_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(64))
    scheduled_for: Mapped[datetime] = mapped_column(UtcDateTime)
    # "schedule" or "manual".
    trigger: Mapped[str] = mapped_column(String(16))
    instance: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # None while running; then a `JobOutcome` value.
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    counters: Mapped[str] = mapped_column(Text, default="{}")
    message: Mapped[str] = mapped_column(Text, default="")
