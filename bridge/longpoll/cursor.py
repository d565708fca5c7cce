"""Cursors and what a poll from a cursor gets: pure decisions, no I/O.

A cursor names a position in one epoch of the durable log: ``<epoch>.<seq>`` means
"I have applied every event up to `seq`". An event's id is the cursor just after it,
so a consumer can dedup by id and resume from any id it applied. The epoch changes
when the log is wiped (a new database); a cursor from another epoch cannot be
honoured and gets an explicit reset, as does one older than what retention kept.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_CURSOR = re.compile(r"^([0-9a-f]{1,32})\.([0-9]{1,19})$")
MAX_SEQ = 2**63 - 1


class MalformedCursor(ValueError):
    """The text is not a cursor this service ever issued."""


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    epoch: str
    seq: int

    @classmethod
    def parse(cls, text: str) -> Cursor:
        match = _CURSOR.match(text)
        if match is None or int(match.group(2)) > MAX_SEQ:
            raise MalformedCursor(f"not a cursor: {text[:80]!r}")
        return cls(match.group(1), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.epoch}.{self.seq}"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event of the log, its JSON already rendered once for every poller."""

    seq: int
    topic: str
    extensions: frozenset[str]
    json: bytes  # the whole delivered object: {"id", "topic", "time", "data"}

    def visible_to(self, extension: str | None) -> bool:
        """`None` sees everything (a 1C base); a panel sees its extension's events."""
        return extension is None or extension in self.extensions


class ResetReason(enum.StrEnum):
    EXPIRED = "expired"  # older than what retention kept
    EPOCH = "epoch"  # issued by a log that no longer exists
    AHEAD = "ahead"  # past the newest event: the log was rolled back


@dataclass(frozen=True, slots=True)
class Reset:
    """The explicit "you missed something" answer: what was lost, where to resume."""

    reason: ResetReason
    lost_after: Cursor | None  # first lost event is after this (None: unknown)
    lost_through: Cursor | None  # last lost event (None: unknown)
    resume: Cursor


@dataclass(frozen=True, slots=True)
class LogBounds:
    """What the log can serve: events after `pruned_through` up to `head`."""

    epoch: str
    pruned_through: int
    head: int

    @property
    def head_cursor(self) -> Cursor:
        return Cursor(self.epoch, self.head)


def check(cursor: Cursor, bounds: LogBounds) -> Reset | None:
    """None when every event after `cursor` is still in the log; else the reset."""
    resume = bounds.head_cursor
    if cursor.epoch != bounds.epoch:
        return Reset(ResetReason.EPOCH, None, None, resume)
    if cursor.seq > bounds.head:
        return Reset(ResetReason.AHEAD, None, None, resume)
    if cursor.seq < bounds.pruned_through:
        # Everything pruned is lost to this consumer; it resumes at the oldest
        # kept event rather than the head, so it loses no more than it must.
        lost_through = Cursor(bounds.epoch, bounds.pruned_through)
        return Reset(ResetReason.EXPIRED, cursor, lost_through, lost_through)
    return None


def select(
    events: Iterable[StoredEvent],
    after: int,
    extension: str | None,
    limit: int,
) -> tuple[list[StoredEvent], int]:
    """Events after `after` the consumer may see, at most `limit`, in order.

    Returns them and the position the consumer has now covered: past the last
    event taken, or past everything scanned when the batch did not fill (a
    panel's cursor moves over other extensions' events, so it never rescans).
    """
    taken: list[StoredEvent] = []
    covered = after
    for event in events:
        if event.seq <= after:
            continue
        if event.visible_to(extension):
            if len(taken) == limit:
                return taken, covered
            taken.append(event)
        covered = event.seq
    return taken, covered


def render_batch(
    events: Sequence[StoredEvent], cursor: Cursor, reset: Reset | None = None
) -> bytes:
    """The poll answer, built from pre-rendered events without re-encoding them."""
    body = b'{"cursor":"' + str(cursor).encode() + b'","events":['
    body += b",".join(e.json for e in events) + b"]"
    if reset is not None:
        body += b',"reset":' + _reset_json(reset)
    return body + b"}"


def _reset_json(reset: Reset) -> bytes:
    def text(c: Cursor | None) -> bytes:
        return b"null" if c is None else b'"' + str(c).encode() + b'"'

    return (
        b'{"reason":"'
        + reset.reason.value.encode()
        + b'","lost_after":'
        + text(reset.lost_after)
        + b',"lost_through":'
        + text(reset.lost_through)
        + b',"resume":'
        + text(reset.resume)
        + b"}"
    )
