"""call journal: legs, rejected CDR rows, loader checkpoints

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bridge.storage.base import UtcDateTime

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "call_legs",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("leg_key", sa.String(length=160), nullable=False),
        sa.Column("linkedid", sa.String(length=128), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("answered_at", UtcDateTime(), nullable=True),
        sa.Column("ended_at", UtcDateTime(), nullable=False),
        sa.Column("src_raw", sa.String(length=128), nullable=False),
        sa.Column("src_key", sa.String(length=32), nullable=False),
        sa.Column("dst_raw", sa.String(length=128), nullable=False),
        sa.Column("dst_key", sa.String(length=32), nullable=False),
        sa.Column("did", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("missed", sa.Boolean(), nullable=False),
        sa.Column("employee", sa.String(length=32), nullable=False),
        sa.Column("talk_seconds", sa.Integer(), nullable=False),
        sa.Column("wait_seconds", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("recording", sa.String(length=1024), nullable=False),
        sa.Column("number_type", sa.String(length=16), nullable=False),
        sa.Column("external_number", sa.String(length=32), nullable=False),
        sa.Column("owner_ref", sa.String(length=64), nullable=True),
        sa.Column("owner_entity", sa.String(length=64), nullable=True),
        sa.Column("owner_name", sa.String(length=256), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_legs")),
        sa.UniqueConstraint(
            "source", "leg_key", name=op.f("uq_call_legs_source_leg_key")
        ),
    )
    op.create_index(
        "ix_call_legs_src_key_started", "call_legs", ["src_key", "started_at"]
    )
    op.create_index(
        "ix_call_legs_dst_key_started", "call_legs", ["dst_key", "started_at"]
    )
    op.create_index(
        "ix_call_legs_employee_started", "call_legs", ["employee", "started_at"]
    )
    op.create_index(op.f("ix_call_legs_linkedid"), "call_legs", ["linkedid"])
    op.create_index(op.f("ix_call_legs_started_at"), "call_legs", ["started_at"])
    op.create_index(op.f("ix_call_legs_owner_ref"), "call_legs", ["owner_ref"])
    op.create_table(
        "cdr_rejects",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=512), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("rejected_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdr_rejects")),
        sa.UniqueConstraint(
            "source", "row_hash", name=op.f("uq_cdr_rejects_source_row_hash")
        ),
    )
    op.create_table(
        "cdr_checkpoints",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("gap_checked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_cdr_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("cdr_checkpoints")
    op.drop_table("cdr_rejects")
    op.drop_table("call_legs")
