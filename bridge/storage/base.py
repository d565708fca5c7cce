"""The declarative base and column types every feature's tables share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Dialect, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Named constraints, so migrations can drop and alter them on both engines alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both engines.

    SQLite keeps no zone; PostgreSQL's ``timestamp`` would shift with the session
    zone. Storing naive UTC and re-attaching UTC on the way out gives one behaviour.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)  # noqa: S101 - the column type guarantees it
        return value.replace(tzinfo=UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_microseconds(value: datetime) -> int:
    """An aware datetime as whole microseconds since 1970-01-01 UTC."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    # Arithmetic on the timedelta is exact; a float timestamp() is not past 2**53.
    return (value - _EPOCH) // _MICROSECOND


def from_microseconds(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


class UtcMicroseconds(UtcDateTime):
    """`UtcDateTime` kept on SQLite as an integer count of microseconds.

    SQLite stores SQLAlchemy's datetime text (26 bytes) and compares it as text;
    an integer takes 8 bytes, compares cheaper and keeps the table and its time
    indexes smaller, which is most of what a bulk load into the journal writes.
    PostgreSQL keeps its native ``timestamp``. The declared column type stays
    DATETIME, so the schema reads the same on both engines.
    """

    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return _bind_microseconds

    def literal_processor(self, dialect: Dialect) -> Callable[[Any], str] | None:
        if dialect.name != "sqlite":
            return super().literal_processor(dialect)
        return _literal_microseconds

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return _result_microseconds


def _bind_microseconds(value: datetime | None) -> int | None:
    return None if value is None else to_microseconds(value)


def _literal_microseconds(value: datetime) -> str:
    return str(to_microseconds(value))


def _result_microseconds(value: int | None) -> datetime | None:
    return None if value is None else from_microseconds(value)
