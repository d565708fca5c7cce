from __future__ import annotations

import pytest

from pbx.asterisk.parser import MAX_FRAME_BYTES, Message, parse, parse_frame, serialize

PING = b"Response: Success\r\nActionID: 7\r\nPing: Pong\r\n\r\n"


def test_given_incomplete_frame_when_parsed_then_kept_as_rest() -> None:
    messages, rest = parse(PING[:20])
    assert messages == []
    assert rest == PING[:20]


def test_given_several_frames_when_parsed_then_all_returned_in_order() -> None:
    data = PING + b"Event: FullyBooted\r\nStatus: Fully Booted\r\n\r\n" + b"Event: Ha"
    messages, rest = parse(data)
    assert [m.response or m.event for m in messages] == ["Success", "FullyBooted"]
    assert messages[0].action_id == "7"
    assert rest == b"Event: Ha"


def test_given_bad_frame_when_parsed_then_skipped_and_logged(caplog) -> None:
    data = b"garbage without colon\r\n\r\n" + PING
    messages, _ = parse(data)
    assert [m.get("Ping") for m in messages] == ["Pong"]
    assert "malformed AMI frame skipped" in caplog.text


def test_given_split_multibyte_character_then_it_survives() -> None:
    frame = "Event: Newchannel\r\nCallerIDName: Сотрудник\r\n\r\n".encode()
    cut = frame.index("Сотрудник".encode()) + 1
    first, rest = parse(frame[:cut])
    second, rest = parse(rest + frame[cut:])
    assert first == []
    assert second[0].get("CallerIDName") == "Сотрудник"


def test_given_endless_frame_then_buffer_is_dropped() -> None:
    messages, rest = parse(b"Event: X\r\nData: " + b"x" * (MAX_FRAME_BYTES + 1))
    assert (messages, rest) == ([], b"")


@pytest.mark.parametrize("frame", [b"", b"\r\n", b" Key: v", b": no key"])
def test_frames_that_are_not_messages(frame: bytes) -> None:
    assert parse_frame(frame) is None


def test_value_with_colons_and_action_id_spelling() -> None:
    message = parse_frame(
        b"Event: Cdr\r\nStartTime: 2026-01-05 12:00:00\r\nActionId: 9"
    )
    assert message == Message(
        {"Event": "Cdr", "StartTime": "2026-01-05 12:00:00", "ActionId": "9"}
    )
    assert message.action_id == "9"


def test_serialize_round_trips_and_cannot_inject_headers() -> None:
    wire = serialize({"Action": "Originate", "Exten": "101\r\nAction: Logoff"})
    messages, rest = parse(wire)
    assert rest == b""
    assert messages[0].headers == {
        "Action": "Originate",
        "Exten": "101  Action: Logoff",
    }
