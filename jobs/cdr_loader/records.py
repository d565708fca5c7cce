"""A CDR row as every source hands it to the mapper.

Sources translate their own column names into the standard Asterisk CDR names
(`src`, `dst`, `channel`, `dstchannel`, `start`, `answer`, `end`, `duration`,
`billsec`, `disposition`, `uniqueid`, `linkedid`, `sequence`, `did`,
`recordingfile`, ...) and keep the row exactly as read in `raw`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

# Standard name -> the column names PBXs use for it (Asterisk `cdr` tables,
# MikoPBX `cdr_general` and its REST rows), matched case-insensitively.
ALIASES: Mapping[str, tuple[str, ...]] = {
    "start": ("calldate", "start"),
    "answer": ("answer",),
    "end": ("end", "endtime"),
    "src": ("src", "src_num"),
    "dst": ("dst", "dst_num"),
    "channel": ("channel", "src_chan"),
    "dstchannel": ("dstchannel", "dst_chan"),
    "lastapp": ("lastapp", "appname"),
    "uniqueid": ("uniqueid",),
    "linkedid": ("linkedid",),
    "sequence": ("sequence",),
    "did": ("did",),
    "disposition": ("disposition",),
    "duration": ("duration",),
    "billsec": ("billsec",),
    "userfield": ("userfield",),
    "recordingfile": ("recordingfile",),
    "dcontext": ("dcontext",),
}
# Old cdr_sqlite/cdr_pgsql schemas store the disposition as Asterisk's flag value.
DISPOSITION_FLAGS = {
    "0": "NO ANSWER", "1": "NO ANSWER", "2": "FAILED", "4": "BUSY",
    "8": "ANSWERED", "16": "CONGESTION",
}  # fmt: skip


# Not frozen: one is built per CDR row, and a frozen dataclass's __init__ sets
# each field through object.__setattr__, at twice the cost.
@dataclass(slots=True)
class SourceRow:
    fields: Mapping[str, str]
    raw: Mapping[str, Any]
    # Set by a source that already knows the row is malformed.
    error: str = ""


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows read together, and the cursor to resume after them."""

    rows: list[SourceRow]
    cursor: str
    # Rows a source hands over as columns (Master.csv's plain lines), for
    # `TableMapper`; the rows above go through `RowMapper`.
    table: pl.DataFrame | None = None


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def standard_row(row: Mapping[str, Any]) -> SourceRow:
    """A row with PBX column names (any case) as a `SourceRow`; a numeric `id`
    column (MikoPBX) becomes the leg key, since transfer legs share UNIQUEID."""
    raw = {str(k): as_text(v) for k, v in row.items()}
    by_lower = {k.lower(): v for k, v in raw.items()}
    fields: dict[str, str] = {}
    for std, aliases in ALIASES.items():
        for alias in aliases:
            if alias in by_lower:
                fields[std] = by_lower[alias]
                break
    disposition = fields.get("disposition", "")
    fields["disposition"] = DISPOSITION_FLAGS.get(disposition, disposition)
    if by_lower.get("id"):
        fields["id_key"] = f"id:{by_lower['id']}"
    return SourceRow(fields, raw)
