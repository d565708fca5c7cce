"""1C contact index: phone owners and their numbers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bridge.storage.base import UtcDateTime

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "onec_contact_owners",
        sa.Column("entity", sa.String(length=128), nullable=False),
        sa.Column("ref", sa.String(length=36), nullable=False),
        sa.Column("data_version", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("presentation", sa.String(length=1024), nullable=False),
        sa.Column("parent_entity", sa.String(length=128), nullable=False),
        sa.Column("parent_ref", sa.String(length=36), nullable=False),
        sa.Column("read_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("entity", "ref", name=op.f("pk_onec_contact_owners")),
    )
    op.create_table(
        "onec_contact_phones",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity", sa.String(length=128), nullable=False),
        sa.Column("ref", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("key10", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_contact_phones")),
    )
    op.create_index(
        "ix_onec_contact_phones_owner", "onec_contact_phones", ["entity", "ref"]
    )
    op.create_index(
        op.f("ix_onec_contact_phones_key10"), "onec_contact_phones", ["key10"]
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_onec_contact_phones_key10"), table_name="onec_contact_phones"
    )
    op.drop_index("ix_onec_contact_phones_owner", table_name="onec_contact_phones")
    op.drop_table("onec_contact_phones")
    op.drop_table("onec_contact_owners")
