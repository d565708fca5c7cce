"""Rostelecom call_events → the one call-event model (PRODUCT §3). Pure.

The PBX reports per call (`session_id`) a `new` (before routing) and an `end`, and
per employee leg (`request_pin`) `calling`, `connected` and `disconnected`; a call
can connect and disconnect several legs (manual §10.6.1). So the caller's side is
the leg `session_id`, each employee's side the leg `session_id:pin`, and
`linkedid` is always `session_id`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bridge.call_events import CallEvent, CallKind, CallState, Direction, Party
from bridge.phone_numbers import NumberKind, normalize
from pbx.vpbx.models import CallEventPayload

TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")
_SIP_USER = re.compile(r"^(?:sips?:|tel:)?([^@;]*)", re.IGNORECASE)
_DIALLABLE = re.compile(r"^\+?[\d\s().-]+$")

_STATES: dict[str, tuple[CallState, CallKind]] = {
    "new": (CallState.CALLING, CallKind.NEW),
    "calling": (CallState.CALLING, CallKind.RINGING),
    "connected": (CallState.CONNECTED, CallKind.ANSWERED),
    "disconnected": (CallState.FINISHED, CallKind.HANGUP),
    "end": (CallState.FINISHED, CallKind.HANGUP),
}
_DIRECTIONS: dict[str, Direction] = {
    "incoming": Direction.INCOMING,
    "inbound": Direction.INCOMING,
    "outgoing": Direction.OUTGOING,
    # Seen in public integrations; the manual names no values at all.
    "outbound": Direction.OUTGOING,
    "internal": Direction.INTERNAL,
}
# States that belong to one employee's leg rather than to the whole call.
_LEG_STATES = frozenset({"calling", "connected", "disconnected"})


class Ignored(enum.StrEnum):
    UNKNOWN_STATE = "unknown-state"
    UNKNOWN_TYPE = "unknown-type"


@dataclass(frozen=True, slots=True)
class Mapped:
    event: CallEvent | None
    ignored: Ignored | None = None


def to_call_event(
    payload: CallEventPayload, *, zone: ZoneInfo, received: datetime
) -> Mapped:
    """The call event for `payload`, or why it cannot be one.

    `received` (UTC) stands in for a missing or unreadable timestamp: an event
    is worth more with the arrival time than dropped.
    """
    state_name = payload.state.strip().lower()
    if state_name not in _STATES:
        return Mapped(None, Ignored.UNKNOWN_STATE)
    type_name = payload.type.strip().lower()
    direction = _DIRECTIONS.get(type_name) if type_name else _guess(payload)
    if direction is None:
        return Mapped(None, Ignored.UNKNOWN_TYPE)
    state, kind = _STATES[state_name]
    pin = payload.request_pin.strip()
    leg = payload.session_id
    if pin and state_name in _LEG_STATES:
        leg = f"{payload.session_id}:{pin}"
    caller, called, did = _parties(payload, direction, pin)
    event = CallEvent.model_validate(
        {
            "call_id": leg,
            "linkedid": payload.session_id,
            "time": parse_timestamp(payload.timestamp, zone) or received,
            "state": state,
            "kind": kind,
            "direction": direction,
            "from": caller,
            "to": called,
            "did": did,
            "extra": _extra(payload),
        }
    )
    return Mapped(event)


def parse_timestamp(raw: str, zone: ZoneInfo) -> datetime | None:
    """A domain-local "YYYY-MM-DD HH:MM:SS[.fff]" as UTC, or None if unreadable."""
    text = raw.strip()
    for fmt in TIMESTAMP_FORMATS:
        try:
            local = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=zone).astimezone(UTC)
    return None


def _guess(payload: CallEventPayload) -> Direction:
    """The direction of an event that omits `type`, from its numbers."""
    if party(payload.from_number).number:
        return Direction.INCOMING
    if party(payload.request_number).number:
        return Direction.OUTGOING
    return Direction.INTERNAL


def _parties(
    payload: CallEventPayload, direction: Direction, pin: str
) -> tuple[Party, Party, str]:
    caller = party(payload.from_number)
    called = party(payload.request_number)
    if direction is Direction.INCOMING:
        # The number dialled is the company's line; the leg rings the employee.
        return caller, Party(extension=pin), called.number
    if direction is Direction.OUTGOING and pin and not caller.extension:
        caller = Party(number=caller.number, extension=pin)
    if direction is Direction.INTERNAL and pin and not called.extension:
        called = Party(number=called.number, extension=pin)
    return caller, called, ""


def party(raw: str) -> Party:
    """A caller or callee from a number, an extension or a SIP URI.

    A SIP login such as "sip:get8@domain" is neither: it is kept in `extra` by
    the caller, not mangled into extension "8".
    """
    user = _SIP_USER.match(raw.strip())
    text = user.group(1) if user else ""
    if not text or not _DIALLABLE.match(text):
        return Party()
    number = normalize(text)
    if number.kind is NumberKind.INTERNAL:
        return Party(extension=number.canonical)
    if number.kind is NumberKind.EXTERNAL:
        return Party(number=number.canonical)
    return Party()


def _extra(payload: CallEventPayload) -> dict[str, object]:
    extra: dict[str, object] = {"source": "vpbx", "session_id": payload.session_id}
    if payload.request_pin:
        extra["request_pin"] = payload.request_pin
    if payload.is_record is not None:
        extra["is_record"] = payload.is_record
    if payload.disconnect_reason:
        extra["disconnect_reason"] = payload.disconnect_reason
    for name in ("from_number", "request_number"):
        extra[name] = getattr(payload, name)
    unknown = payload.unknown_fields()
    if unknown:
        extra["fields"] = unknown
    return extra
