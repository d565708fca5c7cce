"""The `[jobs]` config section: the scheduler's zone, run history, first schedules.

The database holds each job's enabled flag and schedule once the service has started;
`[jobs.seed.<job_id>]` only gives the values a fresh database starts with.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from bridge.config_base import Section
from jobs.catalog import SPECS
from jobs.schedule_model import Schedule


class JobSeed(Section):
    enabled: bool = True
    # None: the documented default schedule of seed 000.
    schedule: Schedule | None = None


class JobsConfig(Section):
    enabled: bool = True
    # Seed 000's schedules are office hours; they are read in this zone.
    timezone: str = "Europe/Moscow"
    history_days: int = Field(default=30, ge=1, le=3650)
    # How often an instance re-reads job settings changed on another instance and a
    # standby instance retries the scheduler lock.
    refresh_seconds: float = Field(default=15.0, gt=0, le=3600)
    seed: dict[str, JobSeed] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("seed")
    @classmethod
    def _known_jobs(cls, value: dict[str, JobSeed]) -> dict[str, JobSeed]:
        unknown = sorted(set(value) - set(SPECS))
        if unknown:
            raise ValueError(f"unknown job id {unknown[0]!r}; known: {sorted(SPECS)}")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
