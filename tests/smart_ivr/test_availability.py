"""Availability: exclusions, weekly windows in the configured zone, live state."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from pbx.base import ExtensionState
from smart_ivr.availability import Availability, Schedule, Window, parse_days

MSK = ZoneInfo("Europe/Moscow")
WEEKDAYS_9_18 = Window(parse_days(["mon-fri"]), time(9), time(18))
LUNCH = Window(parse_days(["mon-fri"]), time(13), time(14))
NIGHT = Window(parse_days(["fri"]), time(22), time(6))


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    """November 2026: the 16th is a Monday."""
    return datetime(2026, 11, day, hour, minute, tzinfo=MSK).astimezone(UTC)


AV = Availability(
    timezone=MSK,
    excluded=frozenset({"robot"}),
    schedules={
        "anna": Schedule(available=(WEEKDAYS_9_18,), away=(LUNCH,)),
        "night": Schedule(available=(NIGHT,)),
    },
)


@pytest.mark.parametrize(
    ("who", "when", "reason"),
    [
        ("anna", msk(16, 9, 0), None),
        ("anna", msk(16, 8, 59), "outside working hours"),
        ("anna", msk(16, 17, 59), None),
        ("anna", msk(16, 18, 0), "outside working hours"),
        ("anna", msk(16, 13, 30), "away by schedule"),
        ("anna", msk(21, 10, 0), "outside working hours"),  # Saturday
        ("night", msk(20, 23, 0), None),  # Friday night
        ("night", msk(21, 5, 59), None),  # ...continuing into Saturday
        ("night", msk(21, 6, 0), "outside working hours"),
        ("night", msk(20, 5, 0), "outside working hours"),  # Friday early morning
        ("robot", msk(16, 10, 0), "excluded"),
        ("boris", msk(21, 3, 0), None),  # no schedule: always available
    ],
)
def test_schedule_windows_in_the_configured_zone(
    who: str, when: datetime, reason: str | None
) -> None:
    assert AV.unavailable_reason(who, when) == reason


def test_live_unavailable_phone_is_not_spoken_but_busy_is() -> None:
    at = msk(16, 10)
    assert (
        AV.unavailable_reason("boris", at, ExtensionState.UNAVAILABLE)
        == "phone unavailable"
    )
    assert AV.unavailable_reason("boris", at, ExtensionState.BUSY) is None


def test_parse_days_accepts_ranges_and_refuses_unknown_names() -> None:
    assert parse_days(["sat-mon"]) == frozenset({5, 6, 0})
    with pytest.raises(ValueError, match="unknown weekday 'fry'"):
        parse_days(["fry"])
