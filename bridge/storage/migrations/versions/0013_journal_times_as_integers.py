"""call journal: leg times as integer microseconds on SQLite

SQLite kept the three leg times as SQLAlchemy's datetime text (26 bytes each,
compared as text). As integers they take 8 bytes; SQLite's own insert of the
loader's rows took about a fifth less time per row, into a new file and into a
journal of a million legs alike (BENCHMARKS.md, call journal, fifth pass).
PostgreSQL keeps its ``timestamp`` columns: nothing changes there.

Every leg is rewritten in one UPDATE: 13 s for a million legs on the benchmark
machine, with the WAL growing to about the journal's size meanwhile
(docs/journal.md, Upgrading).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMES = ("started_at", "answered_at", "ended_at")


def _to_integer(column: str) -> str:
    # "YYYY-MM-DD HH:MM:SS[.ffffff]": whole seconds from strftime, the fraction
    # (from character 21, padded to six digits) added as microseconds. strftime
    # gets the first 19 characters only: it works in milliseconds and would round
    # ".999999" up into the next second. Rows that are integers already are left
    # as they are.
    return (
        f"CASE WHEN typeof({column}) = 'text' THEN "
        f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000 + "
        f"CAST(substr(substr({column}, 21) || '000000', 1, 6) AS INTEGER) "
        f"ELSE {column} END"
    )


def _to_text(column: str) -> str:
    # Back to SQLAlchemy's form, always with six fraction digits.
    return (
        f"CASE WHEN typeof({column}) = 'integer' THEN "
        f"datetime({column} / 1000000, 'unixepoch') || "
        f"printf('.%06d', {column} % 1000000) "
        f"ELSE {column} END"
    )


def _rewrite(render: Callable[[str], str]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    values = ", ".join(f"{column} = {render(column)}" for column in _TIMES)
    op.execute(f"UPDATE call_legs SET {values}")  # noqa: S608 - fixed columns


def upgrade() -> None:
    _rewrite(_to_integer)


def downgrade() -> None:
    _rewrite(_to_text)
