"""events channel: the durable event log and long-poll consumers

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("extensions", sa.String(length=512), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_event_log")),
    )
    op.create_index(
        op.f("ix_event_log_published_at"), "event_log", ["published_at"], unique=False
    )
    op.create_table(
        "event_consumer",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("extension", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("last_poll_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("cursor", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_event_consumer")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_event_consumer_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("event_consumer")
    op.drop_index(op.f("ix_event_log_published_at"), table_name="event_log")
    op.drop_table("event_log")
