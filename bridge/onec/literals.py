"""OData v3 query text as 1C's standard interface reads it: literals, filters, options.

Pure string building, no I/O. 1C wants `guid'…'` for references (a bare guid never
matches), `datetime'YYYY-MM-DDTHH:MM:SS'` without an offset (1C dates have no zone),
and strings in single quotes with quotes doubled (reference 17.4.6.1).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

# Characters 1C reads literally in a query; everything else is percent-encoded
# (spaces as %20, not "+", which not every publication accepts).
_QUERY_SAFE = "$,'()=/:*"
OPERATORS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})


def guid(value: str | uuid.UUID) -> str:
    """`guid'…'`; raises ValueError on a malformed reference."""
    return f"guid'{uuid.UUID(str(value))}'"


def date_time(value: datetime) -> str:
    """`datetime'…'` in the infobase's wall time: 1C stores dates without a zone."""
    return f"datetime'{value.replace(tzinfo=None, microsecond=0).isoformat()}'"


def string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def literal(value: str | float | bool | datetime | uuid.UUID | None) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return date_time(value)
    if isinstance(value, uuid.UUID):
        return guid(value)
    return string(value)


def compare(name: str, op: str, value_literal: str) -> str:
    if op not in OPERATORS:
        raise ValueError(f"unsupported OData operator {op!r}")
    return f"{name} {op} {value_literal}"


def all_of(*conditions: str) -> str:
    return " and ".join(_group(c) for c in conditions if c)


def any_of(conditions: Iterable[str]) -> str:
    return " or ".join(_group(c) for c in conditions if c)


def substringof(needle: str, name: str) -> str:
    return f"substringof({string(needle)}, {name})"


def _group(condition: str) -> str:
    return (
        f"({condition})" if " or " in condition or " and " in condition else condition
    )


@dataclass(frozen=True, slots=True)
class Query:
    """The system query options our client sends; `params()` renders them."""

    filter: str = ""
    select: Sequence[str] = ()
    orderby: Sequence[str] = ()
    top: int | None = None
    skip: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def page(self, skip: int, top: int) -> Query:
        return Query(self.filter, self.select, self.orderby, top, skip, self.extra)

    def params(self) -> list[tuple[str, str]]:
        out = [("$format", "json")]
        if self.filter:
            out.append(("$filter", self.filter))
        if self.select:
            out.append(("$select", ",".join(self.select)))
        if self.orderby:
            out.append(("$orderby", ",".join(self.orderby)))
        if self.top is not None:
            out.append(("$top", str(self.top)))
        if self.skip:
            out.append(("$skip", str(self.skip)))
        out.extend(self.extra.items())
        return out

    def query_string(self) -> str:
        return "&".join(
            f"{quote(k, safe='$')}={quote(v, safe=_QUERY_SAFE)}"
            for k, v in self.params()
        )
