"""Schedules in 1C's own words, as seed 000 shows them.

    каждый день; с 8:00:00 по 21:00:00 каждые 120 секунд.
    по дням недели (суббота); с 20:00:00 один раз в день.
    каждый 7-й день, по дням недели (воскресенье); с 20:00:00 один раз в день.

Seed 000 prints the Saturday schedule as "один день, по дням недели (суббота); ...";
the issue and PRODUCT §9 describe it as weekly, which is what the model runs, so the
day part is dropped when week days already say which days (as in the issue's text).
"""

from __future__ import annotations

from datetime import time

from jobs.schedule_model import Schedule, WeekDay

_WEEK_DAYS = {
    WeekDay.MONDAY: "понедельник",
    WeekDay.TUESDAY: "вторник",
    WeekDay.WEDNESDAY: "среда",
    WeekDay.THURSDAY: "четверг",
    WeekDay.FRIDAY: "пятница",
    WeekDay.SATURDAY: "суббота",
    WeekDay.SUNDAY: "воскресенье",
}
_MONTHS = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)


def describe(schedule: Schedule) -> str:
    days = ", ".join(_day_parts(schedule))
    return f"{days}; {_time_part(schedule)}."


def _day_parts(schedule: Schedule) -> list[str]:
    parts: list[str] = []
    if schedule.days_repeat_period > 1:
        parts.append(f"каждый {schedule.days_repeat_period}-й день")
    elif not schedule.week_days:
        parts.append("каждый день")
    if schedule.week_days:
        names = ", ".join(_WEEK_DAYS[d] for d in sorted(schedule.week_days, key=_iso))
        parts.append(f"по дням недели ({names})")
    if schedule.months:
        names = ", ".join(_MONTHS[m - 1] for m in sorted(schedule.months))
        parts.append(f"по месяцам ({names})")
    if schedule.day_in_month:
        parts.append(f"{schedule.day_in_month}-го числа месяца")
    return parts


def _time_part(schedule: Schedule) -> str:
    window = f"с {_clock(schedule.begin_time)}"
    if schedule.end_time is not None:
        window += f" по {_clock(schedule.end_time)}"
    return f"{window} {_repeat(schedule.repeat_period_seconds)}"


def _repeat(period: int | None) -> str:
    if period is None:
        return "один раз в день"
    if period == 1:
        return "каждую секунду"
    return f"каждые {period} {_seconds_word(period)}"


def _seconds_word(n: int) -> str:
    # Russian plural: 1 секунду, 2-4 секунды, 5+ секунд (11-14 are "секунд").
    if n % 10 == 1 and n % 100 != 11:
        return "секунду"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "секунды"
    return "секунд"


def _clock(t: time) -> str:
    return f"{t.hour}:{t.minute:02d}:{t.second:02d}"


def _iso(day: WeekDay) -> int:
    return day.iso
