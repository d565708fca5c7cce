"""call journal: drop the index on owner_ref

Its one reader, the contact refresh's search for unowned calls, is better served by
the start-time index: over 300,000 legs with 30 % unowned, PostgreSQL chose the
owner_ref index and took 0.173 s, and 0.026 s through started_at once the index was
gone; SQLite never used it. Every loaded leg paid for it in the insert.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_call_legs_owner_ref", table_name="call_legs")


def downgrade() -> None:
    op.create_index("ix_call_legs_owner_ref", "call_legs", ["owner_ref"])
