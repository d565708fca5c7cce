"""Every call scenario in tests/fixtures/ami replayed through parser and tracker.

Each `<scenario>.txt` is a transcript of raw AMI frames written from Asterisk's AMI
event documentation (docs.asterisk.org, AMI_Events); it stands in for a real
Asterisk, which cannot run here. `<scenario>.events.json` lists the call events the
adapter must publish, in order. To add a scenario, add both files. Set
REGEN_AMI_SCENARIOS=1 to write the expected files from the current code
(then read every one of them before committing).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest

from pbx.asterisk.calls import CallTracker
from pbx.asterisk.parser import parse
from tests.fakes.ami_frames import FIXTURES, scenario_names, wire_bytes

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def replay(name: str, chunk: int = 0) -> list[dict[str, Any]]:
    """The scenario through the parser (in `chunk`-byte reads if set) and tracker."""
    data = wire_bytes(name)
    pieces = (
        [data[i : i + chunk] for i in range(0, len(data), chunk)] if chunk else [data]
    )
    tracker = CallTracker(trunk_contexts={"from-trunk"})
    events: list[dict[str, Any]] = []
    rest = b""
    for piece in pieces:
        messages, rest = parse(rest + piece)
        for message in messages:
            for event in tracker.handle(message, NOW):
                body = event.as_json()
                del body["time"]
                events.append(body)
    assert rest == b""
    assert tracker.live_legs == 0, "a leg was left open after every channel hung up"
    return events


def test_every_scenario_of_the_issue_has_a_file() -> None:
    assert set(scenario_names()) >= {
        "answered_incoming",
        "outgoing",
        "internal",
        "caller_hangs_up_ringing",
        "reject",
        "no_answer",
        "ring_group",
        "queue_agent",
        "blind_transfer",
        "attended_transfer",
        "pickup",
        "forward",
    }


@pytest.mark.parametrize("name", scenario_names())
def test_scenario_produces_expected_events(name: str) -> None:
    events = replay(name)
    expected_file = FIXTURES / f"{name}.events.json"
    if os.environ.get("REGEN_AMI_SCENARIOS"):
        expected_file.write_text(
            json.dumps(events, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    assert events == json.loads(expected_file.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["attended_transfer", "ring_group"])
def test_frames_split_across_reads_give_the_same_events(name: str) -> None:
    assert replay(name, chunk=7) == replay(name)
