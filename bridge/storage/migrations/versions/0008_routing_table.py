"""routing table: per-day contributions, ranked entries, source checkpoints

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.storage.base

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = bridge.storage.base.UtcDateTime()


def upgrade() -> None:
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
        "routing_checkpoint",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("position", sa.String(length=128), nullable=False),
        sa.Column("built_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_routing_checkpoint")),
    )

    op.create_table(
        "routing_stage",
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("employee", sa.String(length=64), nullable=False),
        sa.Column("doc_type", sa.String(length=64), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("routing_stage")
    op.drop_table("routing_checkpoint")
    op.drop_table("routing_entry")
    op.drop_index("ix_routing_contribution_type_last", "routing_contribution")
    op.drop_table("routing_contribution")
