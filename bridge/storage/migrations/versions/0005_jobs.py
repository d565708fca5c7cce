"""jobs: job settings and run history

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_settings",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("schedule", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_settings")),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=False), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("instance", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("counters", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint(
            "job_id", "scheduled_for", name=op.f("uq_job_runs_job_id_scheduled_for")
        ),
    )
    op.create_index(
        "ix_job_runs_job_id_started_at", "job_runs", ["job_id", "started_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_job_runs_job_id_started_at", table_name="job_runs")
    op.drop_table("job_runs")
    op.drop_table("job_settings")
