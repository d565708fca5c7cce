"""Who may be spoken in a menu right now: exclusions, weekly schedules, live state.

Pure: the caller passes the time and the live extension states. Seed 003 step 3:
service users are excluded, and an employee who is unavailable by schedule at that
time is not spoken. A schedule can say when someone works (`available` windows:
outside them they are away) and when they are away (`away` windows: holidays,
lunch); an employee with no schedule is always available.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from pbx.base import ExtensionState

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Window:
    """A weekly time window; `end` before `start` runs past midnight."""

    days: frozenset[int]  # 0 = Monday, as datetime.weekday()
    start: time
    end: time

    def contains(self, local: datetime) -> bool:
        moment = local.time().replace(tzinfo=None)
        if self.start <= self.end:
            return local.weekday() in self.days and self.start <= moment < self.end
        if moment >= self.start:
            return local.weekday() in self.days
        # After midnight of an overnight window: it belongs to the previous day.
        return (local.weekday() - 1) % 7 in self.days and moment < self.end


@dataclass(frozen=True, slots=True)
class Schedule:
    available: tuple[Window, ...] = ()
    away: tuple[Window, ...] = ()


@dataclass(frozen=True, slots=True)
class Availability:
    timezone: ZoneInfo
    excluded: frozenset[str] = frozenset()
    schedules: Mapping[str, Schedule] = field(default_factory=dict)

    def unavailable_reason(
        self, employee: str, now: datetime, live: ExtensionState | None = None
    ) -> str | None:
        """Why `employee` must not be spoken at `now` (UTC), or None if they may."""
        if employee in self.excluded:
            return "excluded"
        if live is ExtensionState.UNAVAILABLE:
            # An unregistered phone rings nobody; the incumbent dialled it anyway.
            return "phone unavailable"
        schedule = self.schedules.get(employee)
        if schedule is None:
            return None
        local = now.astimezone(self.timezone)
        if any(w.contains(local) for w in schedule.away):
            return "away by schedule"
        if schedule.available and not any(
            w.contains(local) for w in schedule.available
        ):
            return "outside working hours"
        return None


def parse_days(names: list[str]) -> frozenset[int]:
    """["mon", "fri"] or ["mon-fri"] → weekday numbers; ValueError names a bad one."""
    days: set[int] = set()
    for name in names:
        first, _, last = name.strip().lower().partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ValueError(f"unknown weekday {name!r}; use {', '.join(WEEKDAYS)}")
        lo = WEEKDAYS.index(first)
        hi = WEEKDAYS.index(last) if last else lo
        days.update(range(lo, hi + 1) if lo <= hi else [*range(lo, 7), *range(hi + 1)])
    return frozenset(days)
