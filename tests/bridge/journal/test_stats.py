"""Call summaries and buckets: the pure part of the statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bridge.journal.stats import Bucket, GroupBy, Tallies, bucket_start, summarize

MSK = ZoneInfo("Europe/Moscow")


@dataclass
class Leg:
    linkedid: str
    started_at: datetime
    sequence: int
    direction: str
    status: str
    answered: bool
    employee: str
    talk_seconds: int
    wait_seconds: int
    number_type: str


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, 7, hour, minute, tzinfo=UTC)


def test_transfer_chain_is_one_answered_call() -> None:
    call = summarize([
        Leg("c", at(7, 1), 3, "incoming", "принят", True, "202", 120, 0, "mobile"),
        Leg("c", at(7), 1, "incoming", "принят", True, "201", 40, 5, "mobile"),
        Leg("c", at(7, 0), 2, "internal", "дозвонились", True, "201", 10, 5, "unknown"),
    ])  # fmt: skip
    assert (call.employee, call.talk_seconds, call.wait_seconds) == ("201", 170, 5)
    assert call.answered
    assert not call.missed


def test_unanswered_incoming_is_missed() -> None:
    call = summarize([Leg("m", at(8), 1, "incoming", "нет ответа", False, "201", 0,
                          20, "fixed")])  # fmt: skip
    assert call.missed
    assert call.status == "нет ответа"


def test_buckets_in_local_time() -> None:
    late = datetime(2026, 1, 7, 22, 30, tzinfo=UTC)  # 01:30 on the 8th in Moscow
    assert (
        bucket_start(late, Bucket.HOUR, MSK).isoformat() == "2026-01-08T01:00:00+03:00"
    )
    assert bucket_start(late, Bucket.DAY, MSK).day == 8
    assert (
        bucket_start(late, Bucket.WEEK, MSK).isoformat() == "2026-01-05T00:00:00+03:00"
    )
    assert (
        bucket_start(late, Bucket.MONTH, MSK).isoformat() == "2026-01-01T00:00:00+03:00"
    )


def test_tallies_shares_and_averages() -> None:
    tallies = Tallies(Bucket.DAY, MSK, GroupBy.DIRECTION)
    for i, answered in enumerate((True, True, False, True)):
        tallies.add(summarize([Leg(str(i), at(9), 1, "incoming", "", answered, "201",
                                   60 if answered else 0, 10, "mobile")]))  # fmt: skip
    [((_, group), tally)] = tallies.sorted()
    row = tally.as_dict()
    assert group == "incoming"
    assert (row["calls"], row["answered_share"], row["missed_share"]) == (4, 0.75, 0.25)
    assert (row["avg_talk_seconds"], row["avg_wait_seconds"]) == (60.0, 10.0)
