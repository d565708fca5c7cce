"""What one journal record is, independent of the PBX it came from."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.call_events import Direction


class CallStatus(enum.StrEnum):
    """Statuses as 1C users read them in the call journal (seed 001)."""

    ACCEPTED = "принят"  # an incoming call an employee talked on
    NO_ANSWER = "нет ответа"  # nobody picked up
    REACHED = "дозвонились"  # an outgoing or internal call the other side answered
    CANCELLED = "отменен"  # an outgoing call that failed or was abandoned
    LOST = "потерян"  # an incoming call that never reached a talking employee


# Not frozen: a frozen dataclass sets each of the 25 fields through
# object.__setattr__, which made building a leg 4x dearer (2.9 µs against 0.8 µs),
# a cost every loaded CDR row pays. Nothing changes a leg after it is mapped.
@dataclass(slots=True)
class JournalLeg:
    source: str
    # Stable per source: reloading the same CDR row yields the same key.
    leg_key: str
    linkedid: str
    call_id: str
    sequence: int
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    src_raw: str
    src_key: str
    dst_raw: str
    dst_key: str
    did: str
    direction: Direction
    status: CallStatus
    answered: bool
    missed: bool
    employee: str
    talk_seconds: int
    wait_seconds: int
    duration_seconds: int
    recording: str
    number_type: str
    external_number: str
    raw: dict[str, Any]
