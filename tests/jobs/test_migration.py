"""Migration 0005 creates the job tables exactly as the models say, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bridge.storage.schema import metadata

JOB_TABLES = {"job_settings", "job_runs"}


def _diff(connection):
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True}
    )
    return compare_metadata(context, metadata())


def _about_jobs(change) -> bool:
    text = repr(change)
    return any(name in text for name in JOB_TABLES)


async def test_job_tables_match_the_models(db):
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert [c for c in diff if _about_jobs(c)] == []
