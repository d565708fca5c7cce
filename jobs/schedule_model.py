"""1C's scheduled-job schedule, as a value, and when it fires (pure, no scheduler).

The fields mirror 1C's `РасписаниеРегламентногоЗадания`: a time-of-day window
(`begin_time`..`end_time`), a repeat period within the day (none = once a day), week
days, every Nth day, months and a day of the month. All times are local wall time in
the scheduler's zone.

Semantics chosen where 1C leaves room, and why:

- The end time is inclusive: "с 8:00:00 по 21:00:00 каждые 120 секунд" fires at 21:00:00
  too. Russian "по" reads "through", and 1C starts a run whenever the time of day is
  not past `ВремяКонца`; a run *started* at 21:00:00 is inside the window.
- Repeats are counted from `begin_time` (08:00:00, 08:02:00, ...), not from the last
  run, so the fire times do not drift with run durations.
- "Every Nth day" is counted from the previous fire: a day qualifies when it is the
  day of the previous fire or at least N days after it. With week days it combines the
  way the default "каждый 7-й день, по дням недели (воскресенье)" needs: every Sunday.
- DST: wall times that do not exist on a day (spring gap) are skipped; ambiguous wall
  times (autumn) fire once, at their first occurrence.
"""

from __future__ import annotations

import enum
import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

SECONDS_PER_DAY = 86_400
# Bounds the search for the next fire: a schedule that matches no day in ten years
# (e.g. 31 February) never fires.
_SEARCH_DAYS = 3_660
_DAY_END = time(23, 59, 59)
# How far back a restarted scheduler looks for a window edge it may have missed.
_LOOKBACK_DAYS = 8


class WeekDay(enum.StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def iso(self) -> int:
        return list(WeekDay).index(self) + 1


class Schedule(BaseModel):
    """A 1C-shaped schedule; invalid combinations are refused naming the field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    begin_time: time = time(0, 0, 0)
    # None: to the end of the day (23:59:59).
    end_time: time | None = None
    # Seconds between runs inside the window; None: once a day, at `begin_time`.
    repeat_period_seconds: int | None = Field(default=None, ge=1, le=SECONDS_PER_DAY)
    # Empty: every day of the week.
    week_days: tuple[WeekDay, ...] = ()
    days_repeat_period: int = Field(default=1, ge=1, le=366)
    # Empty: every month.
    months: tuple[int, ...] = ()
    # 0: any day of the month.
    day_in_month: int = Field(default=0, ge=0, le=31)

    @field_validator("begin_time", "end_time")
    @classmethod
    def _whole_seconds(cls, value: time | None) -> time | None:
        if value is not None and (value.microsecond or value.tzinfo):
            raise ValueError("a local time of day in whole seconds, like 08:00:00")
        return value

    @field_validator("end_time")
    @classmethod
    def _end_after_begin(cls, value: time | None, info: ValidationInfo) -> time | None:
        begin = info.data.get("begin_time")
        if value is not None and begin is not None and value < begin:
            raise ValueError(f"must not be before begin_time {begin.isoformat()}")
        return value

    @field_validator("months")
    @classmethod
    def _real_months(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= m <= 12 for m in value):
            raise ValueError("each month must be 1..12")
        return value

    @property
    def window_end(self) -> time:
        return self.end_time if self.end_time is not None else _DAY_END

    def day_matches(self, day: date) -> bool:
        """The calendar filters (week days, months, day of month) ignoring every Nth."""
        if self.week_days and day.isoweekday() not in {d.iso for d in self.week_days}:
            return False
        if self.months and day.month not in self.months:
            return False
        return not (self.day_in_month and day.day != self.day_in_month)

    def day_allowed(self, day: date, previous_day: date | None) -> bool:
        if not self.day_matches(day):
            return False
        if previous_day is None or self.days_repeat_period == 1:
            return True
        gap = (day - previous_day).days
        return gap == 0 or gap >= self.days_repeat_period

    def in_window(self, local: datetime) -> bool:
        """Whether a local wall time is inside the window, on a matching day."""
        wall = local.time().replace(microsecond=0, tzinfo=None)
        return (
            self.day_matches(local.date())
            and self.begin_time <= wall <= self.window_end
        )


def next_fire_time(
    schedule: Schedule,
    zone: ZoneInfo,
    start: datetime,
    previous: datetime | None = None,
) -> datetime | None:
    """The first fire time at or after `start` (aware), in UTC; None if never.

    `previous` is the last fire, for the every-Nth-day rule.
    """
    local_start = start.astimezone(zone)
    previous_day = previous.astimezone(zone).date() if previous else None
    day = local_start.date()
    for _ in range(_SEARCH_DAYS):
        if schedule.day_allowed(day, previous_day):
            fire = _first_fire_in_day(schedule, zone, day, start)
            if fire is not None:
                return fire
        day += timedelta(days=1)
    return None


def fire_times(
    schedule: Schedule, zone: ZoneInfo, start: datetime, end: datetime
) -> list[datetime]:
    """Every fire time in [start, end), chained the way the scheduler chains them."""
    fires: list[datetime] = []
    previous: datetime | None = None
    cursor = start
    while (fire := next_fire_time(schedule, zone, cursor, previous)) and fire < end:
        fires.append(fire)
        previous = fire
        cursor = fire + timedelta(seconds=1)
    return fires


def window_edge_after(
    schedule: Schedule, zone: ZoneInfo, start: datetime
) -> datetime | None:
    """The first instant at or after `start` where the window opens or closes.

    Exchange jobs keep a channel open for their whole window, so what is worth
    recording is the edges, not one run per second.
    """
    local_start = start.astimezone(zone)
    day = local_start.date()
    for _ in range(_SEARCH_DAYS):
        if schedule.day_matches(day):
            for edge in _edges_of_day(schedule, zone, day):
                if edge >= start and _is_transition(schedule, zone, edge):
                    return edge
        day += timedelta(days=1)
    return None


def last_window_edge(
    schedule: Schedule, zone: ZoneInfo, now: datetime
) -> datetime | None:
    """The newest window edge at or before `now` within a week; None if none."""
    cursor, last = now - timedelta(days=_LOOKBACK_DAYS), None
    while (edge := window_edge_after(schedule, zone, cursor)) and edge <= now:
        last, cursor = edge, edge + timedelta(microseconds=1)
    return last


def _edges_of_day(schedule: Schedule, zone: ZoneInfo, day: date) -> list[datetime]:
    opens = _aware(day, schedule.begin_time, zone)
    closes_local = datetime.combine(day, schedule.window_end) + timedelta(seconds=1)
    closes = _aware(closes_local.date(), closes_local.time(), zone)
    return [e for e in (opens, closes) if e is not None]


def _is_transition(schedule: Schedule, zone: ZoneInfo, edge: datetime) -> bool:
    before = (edge - timedelta(seconds=1)).astimezone(zone)
    return schedule.in_window(before) != schedule.in_window(edge.astimezone(zone))


def _first_fire_in_day(
    schedule: Schedule, zone: ZoneInfo, day: date, start: datetime
) -> datetime | None:
    begin = _seconds(schedule.begin_time)
    end = _seconds(schedule.window_end)
    period = schedule.repeat_period_seconds
    local_start = start.astimezone(zone)
    index = 0
    if period is not None and local_start.date() == day:
        offset = _seconds(local_start.time()) + local_start.microsecond / 1e6 - begin
        index = max(0, math.ceil(offset / period))
    while True:
        second = begin + index * (period or 0)
        if second > end:
            return None
        fire = _aware(day, _clock_time(second), zone)
        if fire is not None and fire >= start:
            return fire
        if period is None:
            return None
        index += 1


def _aware(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall time; None inside a DST gap."""
    local = datetime.combine(day, wall, tzinfo=zone)
    utc = local.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return utc


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _clock_time(seconds: int) -> time:
    return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)
