"""The pure CDR row → journal leg decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bridge.call_events import Direction
from bridge.journal.legs import CallStatus, JournalLeg
from bridge.journal.store import Rejected
from jobs.cdr_loader.mapping import RowMapper, map_row
from jobs.cdr_loader.records import SourceRow, standard_row
from tests.jobs.cdr_loader.cdr_data import CLIENT, cdr, transfer_chain

MSK = ZoneInfo("Europe/Moscow")
T0 = datetime(2026, 1, 5, 10, 0)


def leg(fields: dict[str, str]) -> JournalLeg:
    mapped = map_row(SourceRow(fields, fields), "csv", MSK)
    assert isinstance(mapped, JournalLeg), mapped
    return mapped


def test_transfer_chain_keeps_order_under_one_linkedid() -> None:
    legs = [leg(row) for row in transfer_chain(T0)]
    assert {x.linkedid for x in legs} == {"1700000000.1"}
    assert [x.sequence for x in legs] == [1, 2, 3]
    assert [x.employee for x in legs] == ["201", "201", "202"]
    assert [x.direction for x in legs] == [
        Direction.INCOMING,
        Direction.INTERNAL,
        Direction.INCOMING,
    ]
    assert [x.status for x in legs] == [
        CallStatus.ACCEPTED,
        CallStatus.REACHED,
        CallStatus.ACCEPTED,
    ]
    assert legs[0].external_number == "+" + CLIENT
    assert legs[0].recording.endswith("1700000000.1.mp3")
    assert len({x.leg_key for x in legs}) == 3


def test_times_are_local_wall_time_and_talk_excludes_ringing() -> None:
    x = leg(cdr(start=T0, src=CLIENT, dst="201", channel="PJSIP/trunk-1",
                dstchannel="PJSIP/201-2", billsec=40, ring=7,
                uniqueid="1.1"))  # fmt: skip
    assert x.started_at == datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    assert (x.talk_seconds, x.wait_seconds, x.duration_seconds) == (40, 7, 47)
    assert x.answered
    assert not x.missed


def test_missed_incoming_has_no_talk_and_no_recording() -> None:
    x = leg(cdr(start=T0, src=CLIENT, dst="201", channel="PJSIP/trunk-1",
                dstchannel="PJSIP/201-2", billsec=0, ring=20,
                disposition="NO ANSWER", uniqueid="1.1",
                userfield="/rec/1.1.wav"))  # fmt: skip
    assert x.status is CallStatus.NO_ANSWER
    assert x.missed
    assert not x.answered
    assert (x.talk_seconds, x.recording, x.wait_seconds) == (0, "", 20)


def test_incoming_answered_only_by_an_application_is_lost() -> None:
    x = leg(cdr(start=T0, src=CLIENT, dst="s", channel="PJSIP/trunk-1",
                dstchannel="", billsec=12, uniqueid="1.1",
                lastapp="Playback"))  # fmt: skip
    assert x.status is CallStatus.LOST
    assert x.missed


def test_answered_with_zero_talk_is_not_answered() -> None:
    """1C downgrades ANSWER with zero conversation to NOANSWER; so do we."""
    x = leg(cdr(start=T0, src=CLIENT, dst="201", channel="PJSIP/trunk-1",
                dstchannel="PJSIP/201-2", billsec=0, uniqueid="1.1"))  # fmt: skip
    assert x.status is CallStatus.NO_ANSWER


def test_outgoing_statuses() -> None:
    base: dict[str, Any] = {
        "src": "201", "dst": "84951234567", "channel": "PJSIP/201-1",
        "dstchannel": "PJSIP/trunk-2", "uniqueid": "1.1",
    }  # fmt: skip
    ok = leg(cdr(start=T0, billsec=30, **base))
    busy = leg(cdr(start=T0, billsec=0, disposition="BUSY", **base))
    assert ok.direction is Direction.OUTGOING
    assert ok.status is CallStatus.REACHED
    assert ok.external_number == "+74951234567"
    assert ok.number_type == "fixed"
    assert busy.status is CallStatus.CANCELLED
    assert not busy.missed


def test_mobile_number_type() -> None:
    x = leg(transfer_chain(T0)[0])
    assert x.number_type == "mobile"


def test_malformed_rows_are_rejected_with_the_reason() -> None:
    good = cdr(start=T0, src="201", dst="202", channel="PJSIP/201-1",
               dstchannel="PJSIP/202-2", billsec=3, uniqueid="1.1")  # fmt: skip
    cases = {
        "start": ({**good, "start": "yesterday"}, "start: not a timestamp"),
        "billsec": ({**good, "billsec": "x"}, "billsec: not a number"),
        "negative": ({**good, "duration": "-1"}, "duration: negative"),
        "missing": ({**good, "start": ""}, "start: missing"),
    }
    for name, (fields, reason) in cases.items():
        mapped = map_row(SourceRow(fields, fields), "csv", MSK)
        assert isinstance(mapped, Rejected), name
        assert mapped.reason.startswith(reason), (name, mapped.reason)
    short = map_row(SourceRow({}, {"line": "a,b"}, "expected 18 or 21"), "csv", MSK)
    assert isinstance(short, Rejected)
    assert short.raw == {"line": "a,b"}


@pytest.mark.parametrize(
    "zone",
    ["Europe/Moscow", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata",
     "Australia/Lord_Howe", "UTC"],
)  # fmt: skip
def test_local_times_become_the_same_instants_as_the_zone_says(zone: str) -> None:
    """The mapper remembers each hour's offset; around every transition (skipped
    and repeated hours, half-hour shifts) it must still agree with the zone."""
    tz = ZoneInfo(zone)
    mapper = RowMapper("csv", tz)
    moments = [datetime(2011, 3, 26, 12, 0) + timedelta(minutes=7 * i)
               for i in range(2 * 24 * 60 // 7)]  # fmt: skip
    for year in (2011, 2014, 2025, 2026):
        for month, day in ((3, 26), (3, 30), (4, 5), (10, 4), (10, 26), (10, 31)):
            start = datetime(year, month, day, 0, 0, 13, 250_000)
            moments += [start + timedelta(minutes=5 * i) for i in range(2 * 24 * 12)]
    for local in moments:
        for text in (str(local), local.isoformat(), local.isoformat(" ", "seconds")):
            wall = datetime.fromisoformat(text)
            got = mapper.time(text, "start")
            assert got == wall.replace(tzinfo=tz).astimezone(UTC), text
            assert got is not None
            assert got.tzinfo is UTC, text


def test_times_with_an_offset_or_in_other_layouts_are_read_as_written() -> None:
    mapper = RowMapper("csv", MSK)
    assert mapper.time("2026-07-01T10:00:00+10:00", "start") == datetime(
        2026, 7, 1, 0, 0, tzinfo=UTC
    )
    assert mapper.time(" 05.01.2026 10:00 ", "start") == datetime(
        2026, 1, 5, 7, 0, tzinfo=UTC
    )
    assert mapper.time("0000-00-00 00:00:00", "answer") is None
    with pytest.raises(ValueError, match="answer: not a timestamp"):
        mapper.time("yesterday", "answer")


def test_a_row_with_a_nul_is_rejected_naming_the_field() -> None:
    # MikoPBX's JSON may carry "\u0000", a CDR table any byte: the mapper, which
    # every source goes through, rejects it before PostgreSQL would refuse it.
    # A NUL only in a column the mapper does not read stays in `raw`, whose JSON
    # writes it as \u0000.
    fields = {k: v for k, v in transfer_chain(T0)[0].items() if k != "dst"}
    row = standard_row({**fields, "dst_num": "20\x001", "note": "a\x00"})
    mapped = map_row(row, "mikopbx", MSK)
    assert isinstance(mapped, Rejected)
    assert mapped.reason == "dst: a NUL character"
    assert mapped.raw["dst_num"] == "20\x001"
    row = standard_row({**transfer_chain(T0)[0], "note": "a\x00"})
    assert isinstance(map_row(row, "mikopbx", MSK), JournalLeg)
