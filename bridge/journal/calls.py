"""A whole call as its legs tell it: what 1C's call journal shows as one row.

Seed 001: one row per call, with "the employees or group of employees who handled
it", one status and the talk time; a transfer is still one conversation with the
client (seed 004: answered by A, transferred to B, B continues). Legs between two
extensions inside a call are part of its story, not calls of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bridge.call_events import Direction
from bridge.journal.models import CallLeg


@dataclass(frozen=True, slots=True)
class JournalCall:
    source: str
    linkedid: str
    legs: tuple[CallLeg, ...]  # by start time, then sequence

    @classmethod
    def of(cls, legs: Sequence[CallLeg]) -> JournalCall:
        ordered = tuple(sorted(legs, key=lambda leg: (leg.started_at, leg.sequence)))
        return cls(ordered[0].source, ordered[0].linkedid, ordered)

    @property
    def first_leg_id(self) -> int:
        return self.legs[0].id

    @property
    def started_at(self) -> datetime:
        return self.legs[0].started_at

    @property
    def direction(self) -> Direction:
        """The direction of the first leg with an outside party."""
        for leg in self.legs:
            if leg.direction != Direction.INTERNAL.value:
                return Direction(leg.direction)
        return Direction.INTERNAL

    @property
    def answered(self) -> bool:
        return any(leg.answered for leg in self.legs)

    @property
    def missed(self) -> bool:
        return self.direction is Direction.INCOMING and not self.answered

    @property
    def status(self) -> str:
        """The first answered leg's status, else how the last leg ended."""
        answered = [leg for leg in self.legs if leg.answered]
        return (answered[0] if answered else self.legs[-1]).status

    @property
    def number(self) -> str:
        """The outside party, E.164 when the loader could normalize it."""
        for leg in self.legs:
            if leg.external_number:
                return leg.external_number
        first = self.legs[0]
        return first.src_raw if self.direction is Direction.INCOMING else first.dst_raw

    @property
    def owner(self) -> CallLeg | None:
        """A leg that knows the caller's 1C owner (all legs share the number)."""
        return next((leg for leg in self.legs if leg.owner_ref), None)

    @property
    def employees(self) -> list[str]:
        """Extensions that talked, in order; for a missed call, those it rang."""
        talked = _unique(leg.employee for leg in self.legs if leg.answered)
        return talked or _unique(leg.employee for leg in self.legs)

    @property
    def talk_seconds(self) -> int:
        return sum(leg.talk_seconds for leg in self.legs)

    @property
    def recordings(self) -> int:
        return sum(1 for leg in self.legs if leg.recording)


def _unique(extensions: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for extension in extensions:
        if extension and extension not in seen:
            seen.append(extension)
    return seen
