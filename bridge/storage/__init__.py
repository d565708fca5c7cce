"""Storage: SQLAlchemy 2 async on SQLite (embedded default) or PostgreSQL.

Each feature keeps its tables in its own ``models`` module on the shared `Base`;
`bridge.storage.schema` imports them all so Alembic sees one metadata.
"""
