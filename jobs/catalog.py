"""The seven regulated jobs of seed 000 (PRODUCT §9): ids, titles, default schedules."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import time

from jobs.schedule_model import Schedule, WeekDay


class JobKind(enum.Enum):
    # Runs its body at every fire time.
    TASK = "task"
    # Keeps a long-poll channel open over its window; runs are the window's edges.
    WINDOW = "window"


@dataclass(frozen=True, slots=True)
class JobSpec:
    job_id: str
    title: str
    default: Schedule
    kind: JobKind = JobKind.TASK


_OFFICE = {"begin_time": time(8, 0, 0), "end_time": time(21, 0, 0)}

CATALOG: tuple[JobSpec, ...] = (
    JobSpec(
        "cdr_loader",
        "Телефония: Загрузка истории звонков",
        Schedule(**_OFFICE, repeat_period_seconds=120),
    ),
    JobSpec(
        "contact_refresh",
        "Телефония: Обновление контактных данных",
        Schedule(begin_time=time(20, 0, 0), week_days=(WeekDay.SATURDAY,)),
    ),
    JobSpec(
        "contact_refresh_operative",
        "Телефония: Обновление контактных данных (оперативно)",
        Schedule(**_OFFICE, repeat_period_seconds=900),
    ),
    JobSpec(
        "routing_table",
        "Телефония: Обновление таблицы маршрутизации",
        Schedule(**_OFFICE, repeat_period_seconds=900),
    ),
    JobSpec(
        "events_exchange",
        "Телефония: Обмен с сервером телефонии событиями",
        Schedule(**_OFFICE, repeat_period_seconds=1),
        JobKind.WINDOW,
    ),
    JobSpec(
        "contacts_exchange",
        "Телефония: Обмен с сервером телефонии контактными данными",
        Schedule(**_OFFICE, repeat_period_seconds=1),
        JobKind.WINDOW,
    ),
    JobSpec(
        "metrics",
        "Телефония: Отправка метрики разработчикам",
        Schedule(
            begin_time=time(20, 0, 0),
            week_days=(WeekDay.SUNDAY,),
            days_repeat_period=7,
        ),
    ),
)

SPECS = {spec.job_id: spec for spec in CATALOG}
# Which long-poll channel each exchange job opens (the channels' own names).
CHANNEL_OF_JOB = {"events_exchange": "events", "contacts_exchange": "contacts"}
