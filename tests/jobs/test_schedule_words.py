"""Schedules rendered in 1C's own words (seed 000)."""

from __future__ import annotations

from datetime import time

import pytest

from jobs.catalog import SPECS
from jobs.schedule_model import Schedule, WeekDay
from jobs.schedule_words import describe


@pytest.mark.parametrize(
    ("job_id", "words"),
    [
        ("cdr_loader", "каждый день; с 8:00:00 по 21:00:00 каждые 120 секунд."),
        ("contact_refresh", "по дням недели (суббота); с 20:00:00 один раз в день."),
        (
            "contact_refresh_operative",
            "каждый день; с 8:00:00 по 21:00:00 каждые 900 секунд.",
        ),
        ("routing_table", "каждый день; с 8:00:00 по 21:00:00 каждые 900 секунд."),
        ("events_exchange", "каждый день; с 8:00:00 по 21:00:00 каждую секунду."),
        ("contacts_exchange", "каждый день; с 8:00:00 по 21:00:00 каждую секунду."),
        (
            "metrics",
            (
                "каждый 7-й день, по дням недели (воскресенье); "
                "с 20:00:00 один раз в день."
            ),
        ),
    ],
)
def test_default_schedules_read_like_the_seed(job_id, words):
    assert describe(SPECS[job_id].default) == words


@pytest.mark.parametrize(
    ("period", "word"),
    [(2, "секунды"), (5, "секунд"), (11, "секунд"), (21, "секунду"), (22, "секунды")],
)
def test_seconds_agree_with_the_number(period, word):
    schedule = Schedule(repeat_period_seconds=period)
    assert describe(schedule) == f"каждый день; с 0:00:00 каждые {period} {word}."


def test_months_days_and_week_days_are_all_named():
    schedule = Schedule(
        begin_time=time(9, 30, 0),
        week_days=(WeekDay.FRIDAY, WeekDay.MONDAY),
        months=(12, 1),
        day_in_month=13,
    )
    assert describe(schedule) == (
        "по дням недели (понедельник, пятница), по месяцам (январь, декабрь), "
        "13-го числа месяца; с 9:30:00 один раз в день."
    )
