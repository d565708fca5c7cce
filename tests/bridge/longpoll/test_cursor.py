"""Cursor parsing, reset decisions and batch selection: the pure core of the channel."""

from __future__ import annotations

import json

import pytest

from bridge.longpoll.cursor import (
    Cursor,
    LogBounds,
    MalformedCursor,
    ResetReason,
    StoredEvent,
    check,
    render_batch,
    select,
)


def ev(seq: int, *exts: str) -> StoredEvent:
    body = {"id": f"ab.{seq}", "topic": "call", "time": "t", "data": {"n": seq}}
    return StoredEvent(seq, "call", frozenset(exts), json.dumps(body).encode())


def test_cursor_round_trips() -> None:
    assert str(Cursor.parse("ab12.42")) == "ab12.42"
    assert Cursor.parse("ab12.42") == Cursor("ab12", 42)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ab",
        "ab.",
        ".1",
        "AB.1",
        "ab.-1",
        "ab.1.2",
        "ab.x",
        "ab. 1",
        "a" * 33 + ".1",
        "ab.99999999999999999999",
        "ab.9223372036854775808",
    ],
)
def test_malformed_cursors_are_refused(text: str) -> None:
    with pytest.raises(MalformedCursor):
        Cursor.parse(text)


def test_cursor_inside_the_log_needs_no_reset() -> None:
    bounds = LogBounds("ab", pruned_through=10, head=50)
    assert check(Cursor("ab", 10), bounds) is None
    assert check(Cursor("ab", 50), bounds) is None


def test_cursor_older_than_retention_is_reset_to_the_oldest_kept() -> None:
    reset = check(Cursor("ab", 3), LogBounds("ab", pruned_through=10, head=50))
    assert reset is not None
    assert reset.reason is ResetReason.EXPIRED
    assert reset.lost_after == Cursor("ab", 3)
    assert reset.lost_through == Cursor("ab", 10)
    assert reset.resume == Cursor("ab", 10)


def test_cursor_from_another_epoch_resumes_at_the_head() -> None:
    reset = check(Cursor("cd", 3), LogBounds("ab", 0, 7))
    assert reset is not None
    assert reset.reason is ResetReason.EPOCH
    assert reset.resume == Cursor("ab", 7)
    assert reset.lost_after is None


def test_cursor_past_the_head_is_reset() -> None:
    reset = check(Cursor("ab", 8), LogBounds("ab", 0, 7))
    assert reset is not None
    assert reset.reason is ResetReason.AHEAD


def test_select_takes_in_order_up_to_the_limit() -> None:
    events = [ev(i) for i in range(1, 8)]
    taken, covered = select(events, 2, None, 3)
    assert [e.seq for e in taken] == [3, 4, 5]
    assert covered == 5


def test_select_for_a_panel_skips_other_extensions_and_moves_past_them() -> None:
    events = [ev(1, "101"), ev(2, "102"), ev(3, "101", "102"), ev(4, "103")]
    taken, covered = select(events, 0, "102", 10)
    assert [e.seq for e in taken] == [2, 3]
    assert covered == 4  # the panel never rescans 4


def test_select_stops_before_the_next_visible_event_when_full() -> None:
    events = [ev(1, "101"), ev(2, "102"), ev(3, "101")]
    taken, covered = select(events, 0, "101", 1)
    assert [e.seq for e in taken] == [1]
    assert covered == 2  # 3 comes in the next batch


def test_rendered_batch_is_json_with_reset() -> None:
    bounds = LogBounds("ab", 10, 50)
    reset = check(Cursor("ab", 1), bounds)
    body = json.loads(render_batch([ev(11), ev(12)], Cursor("ab", 12), reset))
    assert body["cursor"] == "ab.12"
    assert [e["data"]["n"] for e in body["events"]] == [11, 12]
    assert body["reset"] == {
        "reason": "expired",
        "lost_after": "ab.1",
        "lost_through": "ab.10",
        "resume": "ab.10",
    }
    assert "reset" not in json.loads(render_batch([], Cursor("ab", 1)))
