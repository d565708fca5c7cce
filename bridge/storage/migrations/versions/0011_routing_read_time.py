"""routing table ranked at read time: week-clustered contributions, employees seen

The ranked-entries table goes: a client's ranking is computed from its contributions
when it is read. Contributions are re-keyed (week, client, employee, type, day) so a
day's documents are written into one small corner of the index. The old rows are not
converted: the checkpoints are cleared instead, so the next routing_table run reads
every source again from its start (for the journal: every call), which is the build.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.storage.base

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = bridge.storage.base.UtcDateTime()


def upgrade() -> None:
    op.drop_table("routing_stage")
    op.drop_table("routing_entry")
    op.drop_index("ix_routing_contribution_type_last", "routing_contribution")
    op.drop_table("routing_contribution")
    op.execute("DELETE FROM routing_checkpoint")
    op.create_table(
        "routing_contribution",
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("employee", sa.String(length=64), nullable=False),
        sa.Column("doc_type", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "week",
            "client",
            "employee",
            "doc_type",
            "day",
            name=op.f("pk_routing_contribution"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "routing_employee",
        sa.Column("employee", sa.String(length=64), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("employee", name=op.f("pk_routing_employee")),
    )


def downgrade() -> None:
    op.drop_table("routing_employee")
    op.drop_table("routing_contribution")
    op.execute("DELETE FROM routing_checkpoint")
    op.create_table(
        "routing_contribution",
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("employee", sa.String(length=64), nullable=False),
        sa.Column("doc_type", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("last_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint(
            "client",
            "employee",
            "doc_type",
            "day",
            name=op.f("pk_routing_contribution"),
        ),
    )
    op.create_index(
        "ix_routing_contribution_type_last",
        "routing_contribution",
        ["doc_type", "last_at"],
    )
    op.create_table(
        "routing_entry",
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("employee", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("responsible", sa.Boolean(), nullable=False),
        sa.Column("last_at", UTC_TIME, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("client", "position", name=op.f("pk_routing_entry")),
    )
    op.create_table(
        "routing_stage",
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("employee", sa.String(length=64), nullable=False),
        sa.Column("doc_type", sa.String(length=64), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
    )
