"""The CSV export of a filtered journal: one line per leg, Excel-friendly."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from bridge.journal.models import CallLeg

COLUMNS = (
    "id", "linkedid", "sequence", "started_at", "answered_at", "ended_at",
    "direction", "status", "missed", "src", "dst", "did", "employee",
    "talk_seconds", "wait_seconds", "recording", "number_type", "owner",
)  # fmt: skip
# Excel opens UTF-8 CSV correctly (Cyrillic statuses) only with a BOM.
BOM = "\ufeff"


def header() -> str:
    return BOM + _line(COLUMNS)


def lines(legs: Iterable[CallLeg]) -> str:
    return "".join(_line(_values(leg)) for leg in legs)


def _values(leg: CallLeg) -> Sequence[object]:
    return (
        leg.id,
        leg.linkedid,
        leg.sequence,
        leg.started_at.isoformat(),
        leg.answered_at.isoformat() if leg.answered_at else "",
        leg.ended_at.isoformat(),
        leg.direction,
        leg.status,
        "1" if leg.missed else "0",
        leg.src_raw,
        leg.dst_raw,
        leg.did,
        leg.employee,
        leg.talk_seconds,
        leg.wait_seconds,
        leg.recording,
        leg.number_type,
        leg.owner_name or "",
    )


def _line(values: Sequence[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()
