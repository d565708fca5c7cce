"""The call tracker beyond the scenario files: resync, odd input, memory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.call_events import CallKind, CallState, Direction
from pbx.asterisk.calls import CallTracker, dialled_number, extension_of
from pbx.asterisk.parser import Message

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def show(uid: str, linked: str, channel: str, state: str, **more: str) -> Message:
    return Message(
        {
            "Event": "CoreShowChannel",
            "Uniqueid": uid,
            "Linkedid": linked,
            "Channel": channel,
            "ChannelState": state,
            **more,
        }
    )


def test_resync_adopts_calls_that_started_while_disconnected() -> None:
    tracker = CallTracker()
    snapshot = [
        show(
            "9.1",
            "9.1",
            "PJSIP/rt-trunk-00000001",
            "6",
            CallerIDNum="79161234567",
            Exten="74951234567",
            Context="from-trunk",
        ),
        show("9.2", "9.1", "PJSIP/101-00000002", "6", CallerIDNum="101"),
        show("9.3", "9.3", "PJSIP/102-00000003", "5", CallerIDNum="102", Exten="103"),
        show("9.4", "9.3", "PJSIP/103-00000004", "5", CallerIDNum="103"),
    ]
    events = tracker.resync(snapshot, NOW)
    summary = [
        (e.call_id, e.state, e.direction, e.from_.number, e.to.extension)
        for e in events
    ]
    assert summary == [
        ("9.2", CallState.CONNECTED, Direction.INCOMING, "+79161234567", "101"),
        ("9.4", CallState.CALLING, Direction.INTERNAL, "102", "103"),
    ]
    assert all(e.extra == {"resynced": True} for e in events)
    assert tracker.resync(snapshot, NOW) == []  # nothing new the second time
    finished = tracker.resync([], NOW)
    assert {(e.call_id, e.kind) for e in finished} == {
        ("9.2", CallKind.HANGUP),
        ("9.4", CallKind.HANGUP),
    }
    assert tracker.live_channels == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Event": "DialBegin"},
        {"Event": "DialEnd", "DestUniqueid": "nope"},
        {"Event": "Hangup"},
        {"Event": "AttendedTransfer", "Result": "Fail"},
        {"Event": "Pickup", "TargetUniqueid": "x"},
        {"Event": "SomethingNew", "Uniqueid": "1"},
    ],
)
def test_odd_or_unknown_events_are_ignored(headers: dict[str, str]) -> None:
    tracker = CallTracker()
    assert tracker.handle(Message(headers), NOW) == []
    assert tracker.live_legs == 0


def test_timestamp_header_gives_the_event_time() -> None:
    tracker = CallTracker()
    tracker.handle(
        Message(
            {
                "Event": "Newchannel",
                "Uniqueid": "1",
                "Linkedid": "1",
                "Channel": "PJSIP/101-1",
                "CallerIDNum": "101",
            }
        ),
        NOW,
    )
    [event] = tracker.handle(
        Message(
            {
                "Event": "DialBegin",
                "Uniqueid": "1",
                "Linkedid": "1",
                "Channel": "PJSIP/101-1",
                "CallerIDNum": "101",
                "DestChannel": "PJSIP/102-2",
                "DestUniqueid": "2",
                "DialString": "102",
                "Timestamp": "1767614400.250000",
            }
        ),
        NOW,
    )
    assert event.time == datetime(2026, 1, 5, 12, 0, 0, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("channel", "extension"),
    [
        ("PJSIP/101-0000002a", "101"),
        ("SIP/2001-00ab", "2001"),
        ("PJSIP/rt-trunk-00000001", ""),
        ("Local/101@from-internal-0001;2", ""),
    ],
)
def test_extension_of(channel: str, extension: str) -> None:
    assert extension_of(channel) == extension


@pytest.mark.parametrize(
    ("dial", "number"),
    [
        ("101", "101"),
        ("rt-trunk/89161234567", "89161234567"),
        ("89161234567@rt-trunk", "89161234567"),
        ("PJSIP/101&PJSIP/102", "101"),
        ("PJSIP/89161234567@trunk,60", "89161234567"),
    ],
)
def test_dialled_number(dial: str, number: str) -> None:
    assert dialled_number(dial) == number


def test_cdr_closes_a_leg_whose_hangup_was_missed() -> None:
    tracker = CallTracker()
    chan = {
        "Uniqueid": "1",
        "Linkedid": "1",
        "Channel": "PJSIP/101-1",
        "CallerIDNum": "101",
    }
    tracker.handle(Message({"Event": "Newchannel", **chan}), NOW)
    tracker.handle(
        Message(
            {
                "Event": "Newchannel",
                "Uniqueid": "2",
                "Linkedid": "1",
                "Channel": "PJSIP/102-2",
                "CallerIDNum": "102",
            }
        ),
        NOW,
    )
    tracker.handle(
        Message(
            {
                "Event": "DialBegin",
                **chan,
                "DestChannel": "PJSIP/102-2",
                "DestUniqueid": "2",
                "DialString": "102",
            }
        ),
        NOW,
    )
    [event] = tracker.handle(
        Message(
            {
                "Event": "Cdr",
                "UniqueID": "1",
                "DestinationChannel": "PJSIP/102-2",
                "Disposition": "NO ANSWER",
            }
        ),
        NOW,
    )
    assert (event.call_id, event.state) == ("2", CallState.FINISHED)
    assert event.extra["status"] == "no-answer"
    assert tracker.live_legs == 0
