"""CDR row → journal leg: the pure decisions (direction, status, durations, key).

No I/O here. A row that cannot become a leg comes back as `Rejected` with the
reason; the loader stores it and loads the rest of the batch.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final

from bridge.call_events import Direction
from bridge.journal.legs import CallStatus, JournalLeg
from bridge.journal.store import Rejected
from bridge.phone_numbers import NumberKind, PhoneNumber
from bridge.phone_numbers import normalize as _normalize
from bridge.phone_numbers import number_type as _number_type
from jobs.cdr_loader.records import SourceRow

ANSWERED: Final = "ANSWERED"
NO_ANSWER: Final = "NO ANSWER"
# Legs answered by one of these reached the PBX, not a person (IVR, queue music).
APP_LEGS: Final = frozenset(
    {"playback", "background", "voicemail", "read", "waitexten", "queue", "agi"}
)
_DIRECTIONS: Final = frozenset(d.value for d in Direction)
RECORDING_EXT: Final = (".wav", ".mp3", ".gsm", ".ogg", ".webm", ".wav49")
PEER = re.compile(
    r"^(?:PJSIP|SIP|IAX2|Local|DAHDI)/(\d{1,6})(?:[-@;/]|$)", re.IGNORECASE
)
MAX_INT: Final = 2**31 - 1
# The journal's uniqueid and linkedid columns; PostgreSQL refuses longer text.
MAX_ID: Final = 128
_NAIVE_EPOCH: Final = datetime(1970, 1, 1)
_UTC_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO: Final = timedelta(0)
_LAST_OF_HOUR: Final = timedelta(minutes=59, seconds=59, microseconds=999_999)
_TIME_FORMATS: Final = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
)


# The same clients and extensions recur all day; phonenumbers is the costly part
# of mapping a row, so its answers are remembered (pure functions, bounded cache).
_CACHE_SIZE: Final = 65_536
normalize = functools.lru_cache(maxsize=_CACHE_SIZE)(_normalize)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def number_type(canonical: str) -> str:
    """The type of an external number in E.164 (what `number_type` column holds)."""
    return _number_type(normalize(canonical)).value


class RowError(ValueError):
    """The row is malformed; the message says which field and why."""


def _nul_field(fields: Mapping[str, str]) -> str:
    # PostgreSQL's text cannot hold a NUL, and no PBX writes one on purpose: a
    # row with one is damaged, so it is rejected on both engines alike.
    name = next(name for name, value in fields.items() if "\x00" in value)
    return f"{name}: a NUL character"


def map_row(row: SourceRow, source: str, zone: tzinfo) -> JournalLeg | Rejected:
    """One row on its own; a loader keeps one `RowMapper` for all of its rows."""
    return RowMapper(source, zone).map(row)


class RowMapper:
    """Maps the rows of one source, read in one time zone.

    Every value it gives is a pure function of the row; what it keeps between
    rows (the zone's UTC offset per wall-clock hour) only saves recomputing it.
    Times come out in UTC: the same instants as the PBX's local wall time.
    """

    def __init__(self, source: str, zone: tzinfo) -> None:
        self.source = source
        self.zone = zone
        # "YYYY-MM-DD HH" (an ISO text's first 13 characters always fix its
        # date and hour) -> that hour's `_hour_epoch`.
        self._epochs: dict[str, datetime] = {}

    def map(self, row: SourceRow) -> JournalLeg | Rejected:
        try:
            return self._map(row)
        except RowError as exc:
            return Rejected(str(exc), dict(row.raw))

    def time(self, text: str, name: str) -> datetime | None:
        """PBX timestamps: local wall time in the zone, unless they carry an offset."""
        value = text.strip()
        if not value or value.startswith("0000-00-00"):
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return self._zone_to_utc(_strptime(value, name))
        if parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
        epoch = self._epoch(value[:13], parsed)
        if epoch is None:  # a transition inside this hour: no shortcut
            return self._zone_to_utc(parsed)
        # Datetime arithmetic, not replace()/astimezone(): their keyword parsing
        # alone costs ten times the subtraction, three times per row.
        return _UTC_EPOCH + (parsed - epoch)

    def hour_offset(self, hour: str) -> timedelta | None:
        """The zone's UTC offset all through the wall-clock hour "YYYY-MM-DD HH",
        or None when it changes inside that hour or the text is no such hour."""
        try:
            parsed = datetime.fromisoformat(f"{hour}:00:00")
        except ValueError:
            return None
        if parsed.tzinfo is not None or len(hour) != len("2026-01-05 08"):
            return None
        epoch = self._epoch(hour, parsed)
        return None if epoch is None else epoch - _NAIVE_EPOCH

    def _epoch(self, hour: str, parsed: datetime) -> datetime | None:
        """`_hour_epoch` of `parsed`'s hour, remembered under its text `hour`."""
        epoch = self._epochs.get(hour)
        if epoch is None:
            epoch = self._hour_epoch(parsed)
            if epoch is None:
                return None
            if len(self._epochs) >= _CACHE_SIZE:
                self._epochs.clear()
            self._epochs[hour] = epoch
        return epoch

    def _zone_to_utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def _hour_epoch(self, local: datetime) -> datetime | None:
        """The wall-clock time of the Unix epoch in this zone for `local`'s hour,
        or None when the zone's offset changes inside that hour."""
        first = local.replace(minute=0, second=0, microsecond=0)
        offset = self._offset_at(first)
        if self._offset_at(first + _LAST_OF_HOUR) != offset:
            return None
        return _NAIVE_EPOCH + offset

    def _offset_at(self, local: datetime) -> timedelta:
        # fold=0 for a repeated or skipped hour, as `replace(tzinfo=zone)` reads it.
        return self.zone.utcoffset(local) or _ZERO

    def _map(self, row: SourceRow) -> JournalLeg:
        if row.error:
            raise RowError(row.error)
        f = row.fields
        if "\x00" in "".join(f.values()):
            raise RowError(_nul_field(f))
        started = self.time(f.get("start", ""), "start")
        if started is None:
            raise RowError("start: missing")
        duration = _seconds(f.get("duration", ""), "duration")
        billsec = _seconds(f.get("billsec", ""), "billsec")
        answer_at = self.time(f.get("answer", ""), "answer")
        ended = self.time(f.get("end", ""), "end")
        if ended is None:
            ended = started + timedelta(seconds=duration)
        if ended < started:
            raise RowError("end: before start")
        if billsec > duration and duration:
            raise RowError(f"billsec: {billsec} exceeds duration {duration}")
        src_text = f.get("src", "")
        dst_text = f.get("dst", "")
        src = normalize(src_text)
        dst = normalize(dst_text)
        src_ext = _extension(src, f.get("channel", ""))
        dst_ext = _extension(dst, f.get("dstchannel", ""))
        # Sources that state the direction and the user (Rostelecom) are believed.
        hint = f.get("direction", "")
        direction = (
            Direction(hint) if hint in _DIRECTIONS else _direction(src, src_ext, dst)
        )
        incoming = direction is Direction.INCOMING
        disposition = f.get("disposition", "").strip().upper()
        employee = f.get("employee", "")[:32] or (dst_ext if incoming else src_ext)
        by_person = bool(employee) and f.get("lastapp", "").lower() not in APP_LEGS
        picked_up = disposition == ANSWERED and billsec > 0
        # An incoming leg only the IVR or queue answered was not answered by anyone.
        answered = picked_up and (by_person or not incoming)
        external = _external_party(direction, src, dst)
        key = leg_key(row)
        for name in ("uniqueid", "linkedid"):
            if len(f.get(name, "")) > MAX_ID:
                raise RowError(f"{name}: longer than {MAX_ID} characters")
        return JournalLeg(
            source=self.source,
            leg_key=key,
            linkedid=f.get("linkedid") or f.get("uniqueid") or key,
            call_id=f.get("uniqueid", ""),
            sequence=_int(f.get("sequence", ""), "sequence", default=0),
            started_at=started,
            answered_at=answer_at if answered else None,
            ended_at=ended,
            src_raw=src_text[:128],
            src_key=_match_key(src),
            dst_raw=dst_text[:128],
            dst_key=_match_key(dst),
            did=normalize(f.get("did", "")).canonical[:64],
            direction=direction,
            status=_status(direction, disposition, picked_up, by_person),
            answered=answered,
            missed=incoming and not answered,
            employee=employee,
            talk_seconds=billsec if answered else 0,
            wait_seconds=max(duration - billsec, 0) if answered else duration,
            duration_seconds=duration,
            recording=_recording(f) if answered else "",
            number_type=number_type(external.canonical) if external else "unknown",
            external_number=external.canonical if external else "",
            raw=dict(row.raw),
        )


def leg_key(row: SourceRow) -> str:
    """Unique per leg and stable across re-reads of the same row."""
    fields = row.fields
    uniqueid = fields.get("uniqueid", "")
    if fields.get("id_key"):
        return fields["id_key"][:160]
    if uniqueid and fields.get("sequence"):
        return f"{uniqueid}#{fields['sequence']}"[:160]
    # Older Asterisk: one uniqueid can log several rows (forked dials).
    parts = "|".join(
        fields.get(k, "") for k in ("start", "channel", "dstchannel", "dst", "src")
    )
    if not uniqueid:
        parts = repr(sorted((str(k), str(v)) for k, v in row.raw.items()))
    digest = hashlib.sha1(parts.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{uniqueid}#{digest[:16]}"[:160]


def _strptime(value: str, name: str) -> datetime:
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise RowError(f"{name}: not a timestamp: {value[:40]!r}")


def _seconds(text: str, name: str) -> int:
    value = _int(text, name, default=0)
    if value < 0:
        raise RowError(f"{name}: negative")
    return value


def _int(text: str, name: str, *, default: int) -> int:
    value = _any_int(text, name, default=default)
    # The journal's integer columns are 32-bit on PostgreSQL: a larger value
    # would fail the whole batch's insert there.
    if abs(value) > MAX_INT:
        raise RowError(f"{name}: out of range: {text.strip()[:40]!r}")
    return value


def _any_int(text: str, name: str, *, default: int) -> int:
    try:
        return int(text)  # the common case; int() itself allows the spaces around
    except ValueError:
        pass
    value = text.strip()
    if not value:
        return default
    try:
        return int(float(value))
    except ValueError:
        raise RowError(f"{name}: not a number: {value[:40]!r}") from None


def _extension(number: PhoneNumber, channel: str) -> str:
    if number.kind is NumberKind.INTERNAL:
        return number.canonical
    match = PEER.match(channel.strip())
    if match and number.kind is not NumberKind.EXTERNAL:
        return match.group(1)
    return ""


def _direction(src: PhoneNumber, src_ext: str, dst: PhoneNumber) -> Direction:
    if not src_ext:
        return Direction.INCOMING
    if dst.is_external:
        return Direction.OUTGOING
    return Direction.INTERNAL


def _status(
    direction: Direction, disposition: str, answered: bool, by_person: bool
) -> CallStatus:
    if direction is Direction.INCOMING:
        if answered:
            return CallStatus.ACCEPTED if by_person else CallStatus.LOST
        if disposition in (NO_ANSWER, ANSWERED):
            return CallStatus.NO_ANSWER
        return CallStatus.LOST
    if answered:
        return CallStatus.REACHED
    if disposition in (NO_ANSWER, ANSWERED):
        return CallStatus.NO_ANSWER
    return CallStatus.CANCELLED


def _external_party(
    direction: Direction, src: PhoneNumber, dst: PhoneNumber
) -> PhoneNumber | None:
    if direction is Direction.INCOMING and src.is_external:
        return src
    if direction is Direction.OUTGOING and dst.is_external:
        return dst
    return None


def _match_key(number: PhoneNumber) -> str:
    """What `q=<number>` compares: last ten digits outside, digits inside."""
    if number.kind is NumberKind.INTERNAL:
        return number.canonical
    return number.key10


def _recording(f: Mapping[str, str]) -> str:
    for name in ("recordingfile", "userfield"):
        value = f.get(name, "").strip()
        if value.lower().endswith(RECORDING_EXT):
            return value[:1024]
    return ""
