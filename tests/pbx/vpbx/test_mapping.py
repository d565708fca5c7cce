"""Rostelecom call_events payloads → the one call-event model (PRODUCT §3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bridge.call_events import CallKind, CallState, Direction, Party
from pbx.vpbx.mapping import Ignored, Mapped, parse_timestamp, party, to_call_event
from pbx.vpbx.models import CallEventPayload

MOSCOW = ZoneInfo("Europe/Moscow")
RECEIVED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def mapped(**fields: Any) -> Mapped:
    payload = CallEventPayload.model_validate(
        {"session_id": "SID-1", "type": "incoming", **fields}
    )
    return to_call_event(payload, zone=MOSCOW, received=RECEIVED)


@pytest.mark.parametrize(
    ("state", "expected_state", "kind"),
    [
        ("new", CallState.CALLING, CallKind.NEW),
        ("calling", CallState.CALLING, CallKind.RINGING),
        ("connected", CallState.CONNECTED, CallKind.ANSWERED),
        ("disconnected", CallState.FINISHED, CallKind.HANGUP),
        ("end", CallState.FINISHED, CallKind.HANGUP),
        (" connected\n", CallState.CONNECTED, CallKind.ANSWERED),
        ("END", CallState.FINISHED, CallKind.HANGUP),
    ],
)
def test_every_state_maps_and_stray_whitespace_is_tolerated(
    state, expected_state, kind
):
    event = mapped(state=state).event
    assert event is not None
    assert (event.state, event.kind) == (expected_state, kind)


@pytest.mark.parametrize("state", ["analytics", "", "ringing", "нов"])
def test_unknown_states_are_ignored_with_a_reason(state):
    result = mapped(state=state)
    assert result.event is None
    assert result.ignored is Ignored.UNKNOWN_STATE


def test_an_unknown_type_is_ignored():
    assert mapped(state="new", type="conference").ignored is Ignored.UNKNOWN_TYPE


def test_an_incoming_call_names_caller_line_and_ringing_employee():
    event = mapped(
        state="calling",
        from_number="sip:89161234567@client.example",
        request_number="74951234567",
        request_pin="201",
        timestamp="2026-01-05 12:00:01.250",
    ).event
    assert event is not None
    assert event.direction is Direction.INCOMING
    assert event.from_ == Party(number="+79161234567")
    assert event.to == Party(extension="201")
    assert event.did == "+74951234567"
    assert event.call_id == "SID-1:201"
    assert event.linkedid == "SID-1"
    assert event.time == datetime(2026, 1, 5, 9, 0, 1, 250_000, tzinfo=UTC)


def test_whole_call_states_belong_to_the_session_leg_even_with_a_pin():
    event = mapped(state="end", request_pin="201").event
    assert event is not None
    assert event.call_id == "SID-1"


def test_an_outgoing_call_puts_the_employee_first_and_the_client_second():
    event = mapped(
        state="connected",
        type="outgoing",
        from_number="sip:manager@domain.cloudpbx.rt.ru",
        request_number="+7 (916) 765-43-21",
        request_pin="305",
    ).event
    assert event is not None
    assert event.direction is Direction.OUTGOING
    assert event.from_ == Party(extension="305")
    assert event.to == Party(number="+79167654321")
    assert event.did == ""


def test_outbound_is_read_as_outgoing():
    event = mapped(state="new", type=" outbound ").event
    assert event is not None
    assert event.direction is Direction.OUTGOING


def test_an_internal_call_is_between_extensions():
    event = mapped(
        state="calling", type="internal", from_number="101", request_number="sip:102@d"
    ).event
    assert event is not None
    assert event.from_ == Party(extension="101")
    assert event.to == Party(extension="102")


@pytest.mark.parametrize(
    ("fields", "direction"),
    [
        ({"from_number": "+79161234567", "request_number": "201"}, Direction.INCOMING),
        ({"from_number": "201", "request_number": "84951234567"}, Direction.OUTGOING),
        ({"from_number": "201", "request_number": "202"}, Direction.INTERNAL),
    ],
)
def test_a_missing_type_is_read_from_the_numbers(fields, direction):
    event = mapped(state="new", type="", **fields).event
    assert event is not None
    assert event.direction is direction


def test_unknown_fields_and_pbx_facts_are_kept_in_extra():
    event = mapped(
        state="disconnected",
        request_pin="201",
        is_record="true",
        disconnect_reason="NORMAL_CLEARING",
        analytics_tag={"k": 1},
        from_number="sip:get8@SMoscow",
    ).event
    assert event is not None
    assert event.extra["fields"] == {"analytics_tag": {"k": 1}}
    assert event.extra["disconnect_reason"] == "NORMAL_CLEARING"
    assert event.extra["is_record"] is True
    assert event.extra["from_number"] == "sip:get8@SMoscow"
    assert event.extra["source"] == "vpbx"
    # A SIP login is not an extension: "get8" must not become extension "8".
    assert event.from_ == Party()


def test_numbers_may_arrive_as_json_numbers():
    event = mapped(state="calling", from_number=79161234567, request_pin=201).event
    assert event is not None
    assert event.from_.number == "+79161234567"
    assert event.to.extension == "201"


@pytest.mark.parametrize("raw", ["", "yesterday", "2026-13-01 00:00:00", "05.01.2026"])
def test_an_unreadable_timestamp_falls_back_to_the_arrival_time(raw):
    event = mapped(state="new", timestamp=raw).event
    assert event is not None
    assert event.time == RECEIVED


def test_timestamps_are_domain_local_time():
    vladivostok = ZoneInfo("Asia/Vladivostok")
    assert parse_timestamp(" 2026-07-01 10:00:00 ", vladivostok) == datetime(
        2026, 7, 1, 0, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sip:+79161234567@cloudpbx.rt.ru", Party(number="+79161234567")),
        ("tel:84951234567", Party(number="+74951234567")),
        ("sip:201@domain", Party(extension="201")),
        ("201", Party(extension="201")),
        ("sip:b1@SMoscow007", Party()),
        ("anonymous", Party()),
        ("", Party()),
    ],
)
def test_party_reads_numbers_extensions_and_sip_uris(raw, expected):
    assert party(raw) == expected
