"""journal write-back: which 1C document each call became

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bridge.storage.base import UtcDateTime

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "journal_onec_documents",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("linkedid", sa.String(length=128), nullable=False),
        sa.Column("leg_id", RowId, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("ref_key", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.String(length=512), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_onec_documents")),
        sa.UniqueConstraint(
            "source", "linkedid", name=op.f("uq_journal_onec_documents_source_linkedid")
        ),
        sa.UniqueConstraint("leg_id", name=op.f("uq_journal_onec_documents_leg_id")),
        sa.UniqueConstraint("ref_key", name=op.f("uq_journal_onec_documents_ref_key")),
    )


def downgrade() -> None:
    op.drop_table("journal_onec_documents")
