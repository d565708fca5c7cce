"""The 1C schedule model: every default schedule walked through a simulated week.

Expected fire times are written out from the seed's wording ("с 8:00:00 по 21:00:00
каждые 120 секунд" = 08:00:00, 08:02:00, ..., 21:00:00 inclusive), not computed by the
code under test. Each is checked twice: by the pure model and through the APScheduler
trigger the scheduler actually uses, chained the way APScheduler chains it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from jobs.catalog import SPECS
from jobs.schedule import ScheduleTrigger
from jobs.schedule_model import (
    Schedule,
    WeekDay,
    fire_times,
    last_window_edge,
    next_fire_time,
    window_edge_after,
)

MSK = ZoneInfo("Europe/Moscow")
MONDAY = date(2026, 1, 5)
WEEK = [MONDAY + timedelta(days=i) for i in range(7)]


def at(day: date, clock: str, zone: ZoneInfo = MSK) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=zone).astimezone(UTC)


def every(period: int, day: date) -> list[datetime]:
    first = at(day, "08:00:00")
    count = 13 * 3600 // period + 1  # 08:00:00 through 21:00:00, both ends included
    return [first + timedelta(seconds=period * k) for k in range(count)]


def walk_trigger(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    trigger = ScheduleTrigger(schedule, MSK, edges=False)
    fires: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire < end:
        fires.append(fire.astimezone(UTC))
        fire = trigger.get_next_fire_time(fire, fire)
    return fires


EXPECTED = {
    "cdr_loader": [t for d in WEEK for t in every(120, d)],
    "contact_refresh_operative": [t for d in WEEK for t in every(900, d)],
    "routing_table": [t for d in WEEK for t in every(900, d)],
    "contact_refresh": [at(date(2026, 1, 10), "20:00:00")],
    "metrics": [at(date(2026, 1, 11), "20:00:00")],
}


@pytest.mark.parametrize("job_id", sorted(EXPECTED))
def test_default_schedule_fires_through_a_week(job_id):
    schedule = SPECS[job_id].default
    start, end = at(MONDAY, "00:00:00"), at(MONDAY + timedelta(days=7), "00:00:00")
    expected = EXPECTED[job_id]
    assert fire_times(schedule, MSK, start, end) == expected
    assert walk_trigger(schedule, start, end) == expected


@pytest.mark.parametrize("job_id", ["cdr_loader", "routing_table"])
def test_window_edges_fire_and_nothing_outside(job_id):
    fires = set(
        fire_times(
            SPECS[job_id].default, MSK, at(MONDAY, "00:00:00"), at(MONDAY, "23:59:59")
        )
    )
    assert at(MONDAY, "08:00:00") in fires
    assert at(MONDAY, "21:00:00") in fires
    assert min(fires) == at(MONDAY, "08:00:00")
    assert max(fires) == at(MONDAY, "21:00:00")


def test_after_the_window_the_next_fire_is_tomorrow_morning():
    schedule = SPECS["cdr_loader"].default
    friday = date(2026, 1, 9)
    fire = next_fire_time(
        schedule, MSK, at(friday, "21:00:00") + timedelta(microseconds=1)
    )
    assert fire == at(friday + timedelta(days=1), "08:00:00")


def test_metrics_runs_every_sunday_over_three_weeks():
    schedule = SPECS["metrics"].default
    start = at(MONDAY, "00:00:00")
    fires = walk_trigger(schedule, start, start + timedelta(days=21))
    assert fires == [at(date(2026, 1, 11 + 7 * k), "20:00:00") for k in range(3)]


def test_every_second_day_counts_from_the_previous_fire():
    schedule = Schedule(begin_time=time(9, 0, 0), days_repeat_period=2)
    start = at(MONDAY, "00:00:00")
    fires = fire_times(schedule, MSK, start, start + timedelta(days=7))
    assert fires == [at(MONDAY + timedelta(days=2 * k), "09:00:00") for k in range(4)]


def test_months_and_day_of_month_filter_days():
    schedule = Schedule(begin_time=time(10, 0, 0), months=(2,), day_in_month=15)
    fire = next_fire_time(schedule, MSK, at(MONDAY, "00:00:00"))
    assert fire == at(date(2026, 2, 15), "10:00:00")


def test_a_schedule_matching_no_day_never_fires():
    schedule = Schedule(months=(2,), day_in_month=31)
    assert next_fire_time(schedule, MSK, at(MONDAY, "00:00:00")) is None


@pytest.mark.parametrize("job_id", ["events_exchange", "contacts_exchange"])
def test_exchange_window_is_open_from_8_through_21_inclusive(job_id):
    schedule = SPECS[job_id].default
    local = datetime.combine(MONDAY, time(0), tzinfo=MSK)
    assert not schedule.in_window(local.replace(hour=7, minute=59, second=59))
    assert schedule.in_window(local.replace(hour=8))
    assert schedule.in_window(local.replace(hour=21))
    assert not schedule.in_window(local.replace(hour=21, second=1))


@pytest.mark.parametrize("job_id", ["events_exchange", "contacts_exchange"])
def test_exchange_window_edges_through_a_week(job_id):
    schedule = SPECS[job_id].default
    cursor, end = at(MONDAY, "00:00:00"), at(MONDAY + timedelta(days=7), "00:00:00")
    edges = []
    while (edge := window_edge_after(schedule, MSK, cursor)) and edge < end:
        edges.append(edge)
        cursor = edge + timedelta(microseconds=1)
    expected = [e for d in WEEK for e in (at(d, "08:00:00"), at(d, "21:00:01"))]
    assert edges == expected
    trigger = ScheduleTrigger(schedule, MSK, edges=True)
    assert trigger.get_next_fire_time(None, at(MONDAY, "12:00:00")) == at(
        MONDAY, "21:00:01"
    )


BERLIN = ZoneInfo("Europe/Berlin")


def test_dst_gap_skips_a_wall_time_that_does_not_exist():
    schedule = Schedule(begin_time=time(2, 30, 0))
    spring = date(2026, 3, 29)  # 02:00 -> 03:00 in Berlin
    start = at(spring - timedelta(days=1), "12:00:00", BERLIN)
    fires = fire_times(schedule, BERLIN, start, start + timedelta(days=3))
    assert fires == [
        at(spring + timedelta(days=1), "02:30:00", BERLIN),
        at(spring + timedelta(days=2), "02:30:00", BERLIN),
    ]


def test_dst_fold_fires_an_ambiguous_time_once():
    schedule = Schedule(begin_time=time(2, 30, 0))
    autumn = date(2026, 10, 25)  # 03:00 -> 02:00 in Berlin: 02:30 happens twice
    start = at(autumn, "00:00:00", BERLIN)
    fires = fire_times(schedule, BERLIN, start, start + timedelta(days=1))
    assert fires == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]


def test_repeats_keep_a_steady_utc_spacing_across_the_autumn_fold():
    schedule = Schedule(
        begin_time=time(1, 0, 0), end_time=time(4, 0, 0), repeat_period_seconds=1800
    )
    start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    fires = fire_times(schedule, BERLIN, start, start + timedelta(hours=8))
    assert len(fires) == len(set(fires))
    assert fires == sorted(fires)
    assert fires[0] == at(date(2026, 10, 25), "01:00:00", BERLIN)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"begin_time": "21:00:00", "end_time": "08:00:00"}, "end_time"),
        ({"repeat_period_seconds": 0}, "repeat_period_seconds"),
        ({"week_days": ["funday"]}, "week_days"),
        ({"months": [13]}, "months"),
        ({"day_in_month": 32}, "day_in_month"),
        ({"days_repeat_period": 0}, "days_repeat_period"),
        ({"begin_time": "25:00:00"}, "begin_time"),
        ({"every": 5}, "every"),
    ],
)
def test_invalid_schedules_name_the_field(change, field):
    with pytest.raises(ValidationError) as caught:
        Schedule.model_validate(change)
    assert caught.value.errors()[0]["loc"][0] == field


def test_week_days_are_names_not_numbers():
    schedule = Schedule.model_validate({"week_days": ["saturday"]})
    assert schedule.week_days == (WeekDay.SATURDAY,)
    with pytest.raises(ValidationError):
        Schedule.model_validate({"week_days": [6]})


def test_every_nth_day_goes_on_from_a_fire_before_a_restart():
    schedule = Schedule(begin_time=time(9, 0, 0), days_repeat_period=2)
    yesterday = at(MONDAY, "09:00:00")
    fresh = ScheduleTrigger(schedule, MSK, edges=False, last_fire=yesterday)
    tuesday_morning = at(MONDAY + timedelta(days=1), "08:00:00")
    assert fresh.get_next_fire_time(None, tuesday_morning) == at(
        MONDAY + timedelta(days=2), "09:00:00"
    )
    forgetful = ScheduleTrigger(schedule, MSK, edges=False)
    assert forgetful.get_next_fire_time(None, tuesday_morning) == at(
        MONDAY + timedelta(days=1), "09:00:00"
    )


def test_the_last_window_edge_before_now():
    schedule = SPECS["events_exchange"].default
    assert last_window_edge(schedule, MSK, at(MONDAY, "12:00:00")) == at(
        MONDAY, "08:00:00"
    )
    assert last_window_edge(schedule, MSK, at(MONDAY, "21:00:01")) == at(
        MONDAY, "21:00:01"
    )
    assert last_window_edge(schedule, MSK, at(MONDAY, "07:00:00")) == at(
        MONDAY - timedelta(days=1), "21:00:01"
    )
    all_day = Schedule()
    assert last_window_edge(all_day, MSK, at(MONDAY, "12:00:00")) is None
