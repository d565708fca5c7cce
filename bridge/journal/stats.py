"""Call statistics (seed 001's "Количество звонков" and "Направление звонков").

A call is all legs under one linkedid; it counts once, in the bucket of its first
leg, with the facts of `summarize`. Pure: the HTTP layer feeds it journal rows.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Protocol


class Bucket(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class GroupBy(enum.StrEnum):
    DIRECTION = "direction"
    STATUS = "status"
    EMPLOYEE = "employee"
    NUMBER_TYPE = "number_type"


class LegFacts(Protocol):
    linkedid: str
    started_at: datetime
    sequence: int
    direction: str
    status: str
    answered: bool
    employee: str
    talk_seconds: int
    wait_seconds: int
    number_type: str


@dataclass(frozen=True, slots=True)
class CallSummary:
    linkedid: str
    started_at: datetime
    direction: str
    status: str
    answered: bool
    missed: bool
    employee: str
    talk_seconds: int
    wait_seconds: int
    number_type: str

    def group(self, by: GroupBy) -> str:
        return str(getattr(self, by.value))


def summarize(legs: Sequence[LegFacts]) -> CallSummary:
    """One call from its legs: the first leg says who called whom; the first
    answered leg says who took it and how long the caller waited."""
    ordered = sorted(legs, key=lambda x: (x.started_at, x.sequence))
    first = ordered[0]
    taken = next((x for x in ordered if x.answered), None)
    decisive = taken or first
    return CallSummary(
        linkedid=first.linkedid,
        started_at=first.started_at,
        direction=first.direction,
        status=decisive.status,
        answered=taken is not None,
        missed=first.direction == "incoming" and taken is None,
        employee=decisive.employee,
        talk_seconds=sum(x.talk_seconds for x in ordered),
        wait_seconds=decisive.wait_seconds,
        number_type=next(
            (x.number_type for x in ordered if x.number_type != "unknown"), "unknown"
        ),
    )


def bucket_start(when: datetime, bucket: Bucket, zone: tzinfo) -> datetime:
    local = when.astimezone(zone)
    if bucket is Bucket.HOUR:
        start = local.replace(minute=0, second=0, microsecond=0)
    else:
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket is Bucket.WEEK:
        start -= timedelta(days=start.weekday())
    elif bucket is Bucket.MONTH:
        start = start.replace(day=1)
    return start


@dataclass(slots=True)
class Tally:
    calls: int = 0
    answered: int = 0
    missed: int = 0
    talk_seconds: int = 0
    wait_seconds: int = 0

    def add(self, call: CallSummary) -> None:
        self.calls += 1
        self.answered += call.answered
        self.missed += call.missed
        self.talk_seconds += call.talk_seconds
        self.wait_seconds += call.wait_seconds

    def as_dict(self) -> dict[str, float | int]:
        return {
            "calls": self.calls,
            "answered": self.answered,
            "missed": self.missed,
            "answered_share": _share(self.answered, self.calls),
            "missed_share": _share(self.missed, self.calls),
            "talk_seconds": self.talk_seconds,
            "avg_talk_seconds": _share(self.talk_seconds, self.answered, digits=1),
            "avg_wait_seconds": _share(self.wait_seconds, self.calls, digits=1),
        }


class Tallies:
    """Tallies per (bucket start, group), filled one call at a time."""

    def __init__(self, bucket: Bucket, zone: tzinfo, by: GroupBy | None) -> None:
        self.bucket = bucket
        self.zone = zone
        self.by = by
        self._tallies: dict[tuple[datetime, str], Tally] = {}

    def add(self, call: CallSummary) -> None:
        start = bucket_start(call.started_at, self.bucket, self.zone)
        key = (start, call.group(self.by) if self.by else "")
        self._tallies.setdefault(key, Tally()).add(call)

    def sorted(self) -> list[tuple[tuple[datetime, str], Tally]]:
        return sorted(self._tallies.items())


def _share(part: int, whole: int, digits: int = 4) -> float:
    return round(part / whole, digits) if whole else 0.0
