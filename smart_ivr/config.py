"""The `[ivr]` config section: menu shape, wording, availability and fallbacks."""

from __future__ import annotations

import re
from datetime import time

from pydantic import Field, field_validator

from bridge.config_base import Section
from smart_ivr.availability import Schedule, Window, parse_days
from smart_ivr.menu import Destinations, Phrases

# "mon-fri 09:00-18:00", "sat 10:00-14:00", "fri 22:00-06:00" (past midnight)
_PHRASES = Phrases()
_WINDOW = re.compile(r"^\s*(\S+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_window(text: str) -> Window:
    match = _WINDOW.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not like 'mon-fri 09:00-18:00'")
    days, h1, m1, h2, m2 = match.groups()
    try:
        start, end = time(int(h1), int(m1)), time(int(h2), int(m2))
    except ValueError:
        raise ValueError(f"{text!r} has an impossible time") from None
    if start == end:
        raise ValueError(f"{text!r} is an empty window")
    return Window(parse_days(days.split(",")), start, end)


class EmployeeSchedule(Section):
    """When an employee may be offered (`[[ivr.schedules]]`)."""

    employee: str = Field(min_length=1)
    available: tuple[str, ...] = ()
    away: tuple[str, ...] = ()

    @field_validator("available", "away")
    @classmethod
    def _windows(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            parse_window(text)
        return value

    def schedule(self) -> Schedule:
        return Schedule(
            available=tuple(parse_window(t) for t in self.available),
            away=tuple(parse_window(t) for t in self.away),
        )


class IvrConfig(Section):
    max_entries: int = Field(default=3, ge=1, le=9)
    # Past this, the PBX is told to use the emergency destination.
    deadline_seconds: float = Field(default=1.5, gt=0, le=10)
    # No choice made → default; TTS/data failure or deadline → emergency; a
    # destination that does not resolve → last resort (never a bare hang-up).
    default_destination: str = ""
    emergency_destination: str = ""
    last_resort_destination: str = "0"
    # The dialplan context destinations are checked in (DIALPLAN_EXISTS) and
    # dialled from; MikoPBX and FreePBX call it "internal" / "from-internal".
    dialplan_context: str = Field(default="internal", pattern=r"^[\w-]+$")
    # How many times the menu is played when the caller keys nothing valid.
    attempts: int = Field(default=3, ge=1, le=10)
    digit_timeout_ms: int = Field(default=3000, ge=500, le=30_000)
    # Offer first the employee the caller talked with this recently (0: off).
    last_responsible_minutes: int = Field(default=30, ge=0, le=7 * 24 * 60)
    greeting_start: str = _PHRASES.start
    greeting_first_entry: str = _PHRASES.first_entry
    greeting_entry: str = _PHRASES.entry
    greeting_end: str = _PHRASES.end
    greeting_new_client: str = _PHRASES.new_client
    # getivrtext (MIKO-compatible) sends provider credentials only if this is on.
    send_tts_credentials: bool = False
    schedules: tuple[EmployeeSchedule, ...] = ()

    @field_validator("greeting_first_entry", "greeting_entry")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        try:
            value.format(name="N", digit="1")
        except (KeyError, IndexError, ValueError):
            raise ValueError("only {name} and {digit} may be used") from None
        return value

    def phrases(self) -> Phrases:
        return Phrases(
            start=self.greeting_start,
            first_entry=self.greeting_first_entry,
            entry=self.greeting_entry,
            end=self.greeting_end,
            new_client=self.greeting_new_client,
        )

    def destinations(self) -> Destinations:
        fallback = self.emergency_destination or self.last_resort_destination
        return Destinations(
            default=self.default_destination or fallback,
            emergency=fallback,
        )
