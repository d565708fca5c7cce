"""The `[jobs]` config section: the scheduler's time zone and run history."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from bridge.config_base import Section


class JobsConfig(Section):
    enabled: bool = True
    # Seed 000's schedules are office hours; they are read in this zone.
    timezone: str = "Europe/Moscow"
    history_days: int = Field(default=30, ge=1, le=3650)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value
